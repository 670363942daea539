"""The compose box of the person page (S5, C8)."""

from __future__ import annotations

from typing import Any

from django import forms


class ComposeForm(forms.Form):
    body = forms.CharField(
        label="Text message",
        strip=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": "Write a message first: an empty text cannot be sent."},
    )

    def __init__(self, *args: Any, max_length: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_length = max_length

    def clean_body(self) -> str:
        body: str = self.cleaned_data["body"]
        if not body.strip():
            raise forms.ValidationError("Write a message first: an empty text cannot be sent.")
        if len(body) > self.max_length:
            raise forms.ValidationError(
                f"The text is {len(body)} characters; the limit is {self.max_length} "
                f"(smsMaxLength). Shorten it by {len(body) - self.max_length}."
            )
        return body
