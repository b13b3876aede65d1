from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

ACCEPTED = (".csv", ".xlsx", ".xlsm", ".txt")


class UploadForm(forms.Form):
    file = forms.FileField(label=_("File (CSV or XLSX)"))
    partial = forms.BooleanField(
        label=_("Import the valid rows and give me the rejected ones as a file"),
        required=False,
        help_text=_("By default nothing is imported unless every row is valid."),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        name = upload.name.lower()
        if not name.endswith(ACCEPTED):
            raise forms.ValidationError(_("Upload a CSV or XLSX file (this one is %(n)s).") % {"n": upload.name})
        if upload.size == 0:
            raise forms.ValidationError(_("The file is empty."))
        if upload.size > settings.IMPORT_MAX_BYTES:
            raise forms.ValidationError(
                _("The file is %(s)d MB; at most %(m)d MB can be imported at once. Split it into several files.")
                % {"s": upload.size // 2**20, "m": settings.IMPORT_MAX_BYTES // 2**20}
            )
        return upload
