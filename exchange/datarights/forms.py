from django import forms


class EraseForm(forms.Form):
    confirm_name = forms.CharField(
        label="Type the owner's name to confirm",
        max_length=300,
        help_text="Exactly as shown at the top of this page. Erasing cannot be undone.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "class": "form-control"}),
    )
