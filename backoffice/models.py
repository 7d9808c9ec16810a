"""Background export jobs: large exports run in a Celery task and report their progress."""

from django.conf import settings
from django.db import models


class ExportJob(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "排队中"
        RUNNING = "running", "导出中"
        DONE = "done", "已完成"
        FAILED = "failed", "失败"

    class Format(models.TextChoices):
        XLSX = "xlsx", "Excel (xlsx)"
        CSV = "csv", "CSV"

    name = models.CharField("导出类型", max_length=40)
    label = models.CharField("名称", max_length=60)
    fmt = models.CharField("格式", max_length=4, choices=Format.choices)
    # The back office's filtered queryset, as Django documents it can be kept: the pickled
    # `queryset.query` of `model_label`. Written only by our own server.
    model_label = models.CharField("数据表", max_length=100)
    query = models.BinaryField("查询", editable=False)
    total_rows = models.PositiveIntegerField("总行数", default=0)
    rows_done = models.PositiveIntegerField("已导出行数", default=0)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.PENDING)
    file_name = models.CharField("文件", max_length=200, blank=True)
    error = models.CharField("错误", max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="发起人", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField("发起时间", auto_now_add=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)

    class Meta:
        verbose_name = "导出任务"
        verbose_name_plural = "导出任务"
        ordering = ["-id"]

    def __str__(self):
        return f"{self.label} #{self.pk}"

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        if not self.total_rows:
            return 0
        return min(99, self.rows_done * 100 // self.total_rows)
