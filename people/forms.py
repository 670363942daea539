"""Forms of the people pages: phone edit (P3), data-view filter (P5), prospect upload (P6)."""

from __future__ import annotations

from django import forms

from people.models import PersonPhone, PhoneStatusChange, SmsStatus


class PhoneEditForm(forms.Form):
    # Not required: a status the editor may not change is shown disabled and not posted.
    sms_status = forms.ChoiceField(label="SMS status", choices=SmsStatus.choices, required=False)
    verified = forms.BooleanField(label="Verified", required=False)
    # The status the page showed: a status changed meanwhile (STOP) is not overwritten (T9).
    shown_status = forms.ChoiceField(choices=SmsStatus.choices, widget=forms.HiddenInput)
    reason = forms.CharField(
        label="Reason",
        required=False,
        max_length=1000,
        help_text="Kept in the phone's status history.",
    )

    @classmethod
    def for_phone(
        cls, phone: PersonPhone, *, opt_out: PhoneStatusChange | None = None, may_lift: bool = True
    ) -> PhoneEditForm:
        """The phone's edit form; SMS Disabled by the person's own `opt_out` shows its status
        disabled to an editor who may not lift it (`may_lift`: administrators)."""
        form = cls(
            initial={
                "sms_status": phone.sms_status,
                "shown_status": phone.sms_status,
                "verified": phone.verified_at is not None,
            },
            auto_id=f"phone{phone.pk}_%s",
        )
        if opt_out is not None:
            form.fields["sms_status"].widget.attrs["aria-describedby"] = f"phone{phone.pk}_opt_out"
            if not may_lift:
                form.fields["sms_status"].widget.attrs["disabled"] = True
        return form


class PhoneDataFilterForm(forms.Form):
    deleted = forms.ChoiceField(
        label="Deleted",
        required=False,
        choices=[("", "All"), ("false", "Deleted=False"), ("true", "Deleted=True")],
    )
    q = forms.CharField(label="Search number or source id", required=False)


class ProspectUploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text=(
            "Columns: src_system_id, first_name, last_name, email, phone, phone_type "
            "(first_name, last_name and phone are required). One row per phone; rows with the "
            "same src_system_id belong to one person."
        ),
    )


class ProspectConfirmForm(forms.Form):
    csv_text = forms.CharField(widget=forms.HiddenInput, strip=False)
