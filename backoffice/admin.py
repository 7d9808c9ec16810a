from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.urls import path, reverse
from django.utils.html import format_html

from backoffice.models import ExportJob
from backoffice.services import job_path

admin.site.site_header = "泛渠道平台 · 后台管理"
admin.site.site_title = "泛渠道平台"
admin.site.index_title = "后台管理"


@admin.register(ExportJob)
class ExportJobAdmin(admin.ModelAdmin):
    """Background exports: each staff member sees his own (superusers see all), with progress."""

    list_display = ["__str__", "fmt", "status", "progress", "created_by", "created_at", "download"]
    list_filter = ["status", "name"]
    readonly_fields = [
        "label",
        "name",
        "fmt",
        "status",
        "progress",
        "total_rows",
        "rows_done",
        "created_by",
        "created_at",
        "finished_at",
        "error",
        "download",
    ]
    fields = readonly_fields
    change_form_template = "admin/backoffice/exportjob/change_form.html"

    def get_queryset(self, request):
        qs = super().get_queryset(request).select_related("created_by")
        return qs if request.user.is_superuser else qs.filter(created_by=request.user)

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="进度")
    def progress(self, job):
        return format_html(
            '<progress max="100" value="{}" style="width:10em"></progress> {}%（{} / {} 行）',
            job.percent,
            job.percent,
            f"{job.rows_done:,}",
            f"{job.total_rows:,}",
        )

    @admin.display(description="文件")
    def download(self, job):
        if job.status != ExportJob.Status.DONE:
            return "—"
        url = reverse("admin:backoffice_exportjob_download", args=[job.pk])
        return format_html('<a href="{}">下载</a>', url)

    def get_urls(self):
        download = self.admin_site.admin_view(self.download_view)
        return [path("<int:pk>/download/", download, name="backoffice_exportjob_download"), *super().get_urls()]

    def download_view(self, request, pk: int):
        job = self.get_queryset(request).filter(pk=pk).first()
        if job is None:
            raise PermissionDenied
        if job.status != ExportJob.Status.DONE or not job_path(job).exists():
            raise Http404("文件尚未生成或已被清理")
        filename = f"{job.label}-{job.pk}.{job.fmt}"
        return FileResponse(job_path(job).open("rb"), as_attachment=True, filename=filename)
