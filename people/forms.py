"""Forms of the people pages: phone edit (P3), data-view filter (P5), prospect upload (P6)."""

from __future__ import annotations

from django import forms

from people.models import PersonPhone, SmsStatus


class PhoneEditForm(forms.Form):
    sms_status = forms.ChoiceField(label="SMS status", choices=SmsStatus.choices)
    verified = forms.BooleanField(label="Verified", required=False)
    # The status the page showed: a status changed meanwhile (STOP) is not overwritten (T9).
    shown_status = forms.ChoiceField(choices=SmsStatus.choices, widget=forms.HiddenInput)

    @classmethod
    def for_phone(cls, phone: PersonPhone) -> PhoneEditForm:
        return cls(
            initial={
                "sms_status": phone.sms_status,
                "shown_status": phone.sms_status,
                "verified": phone.verified_at is not None,
            },
            auto_id=f"phone{phone.pk}_%s",
        )


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
