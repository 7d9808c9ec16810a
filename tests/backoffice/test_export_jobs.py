"""Large back-office exports run as background jobs with progress; small ones download at once."""

import csv
import io

import pytest
from django.contrib.auth.models import Permission

from backoffice import services
from backoffice.models import ExportJob
from tests.factories import FollowerFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

EXPORT_URL = "/admin/accounts/follower/export/?format=csv"


@pytest.fixture
def followers():
    return [FollowerFactory(openid=f"oJOB{i}") for i in range(5)]


def read_csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


def test_it_downloads_a_small_export_at_once(client, superuser, followers, settings):
    settings.EXPORT_INLINE_LIMIT = 100
    client.force_login(superuser)

    response = client.get(EXPORT_URL)

    assert response.status_code == 200
    rows = read_csv(response)
    assert rows[0][0] == "OpenID" and len(rows) == 6
    assert not ExportJob.objects.exists()


def test_it_exports_a_large_selection_in_the_background_with_progress(client, superuser, followers, settings):
    settings.EXPORT_INLINE_LIMIT = 2
    client.force_login(superuser)

    response = client.get(EXPORT_URL)

    job = ExportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/admin/backoffice/exportjob/{job.pk}/change/"
    assert (job.status, job.rows_done, job.total_rows, job.percent) == ("done", 5, 5, 100)
    page = client.get(response["Location"])
    assert "已完成" in page.content.decode() and "下载" in page.content.decode()
    download = client.get(f"/admin/backoffice/exportjob/{job.pk}/download/")
    rows = read_csv(download)
    assert [r[0] for r in rows[1:]] == [f.openid for f in followers]


def test_it_exports_what_the_change_list_shows(client, superuser, followers, settings):
    settings.EXPORT_INLINE_LIMIT = 0
    client.force_login(superuser)

    client.get(EXPORT_URL + "&q=oJOB3")

    job = ExportJob.objects.get()
    assert (job.total_rows, job.rows_done) == (1, 1)


def test_it_runs_a_job_once_when_the_task_runs_twice(superuser, followers):
    from accounts.models import Follower

    job = services.start_export(
        name="followers", fmt="xlsx", queryset=Follower.objects.all(), label="粉丝", user=superuser
    )

    assert services.run_export(job_id=job.pk) == "skipped"  # already done on commit
    job.refresh_from_db()
    assert job.status == "done" and services.job_path(job).exists()


def test_it_keeps_a_staff_members_export_from_other_staff(client, superuser, followers, settings):
    settings.EXPORT_INLINE_LIMIT = 2
    client.force_login(superuser)
    client.get(EXPORT_URL)
    job = ExportJob.objects.get()
    other = UserFactory()
    other.user_permissions.add(Permission.objects.get(codename="view_follower"))
    client.force_login(other)

    assert client.get(f"/admin/backoffice/exportjob/{job.pk}/download/").status_code == 403
    assert client.get(f"/admin/backoffice/exportjob/{job.pk}/change/").status_code in (302, 404)
