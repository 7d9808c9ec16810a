"""H5 pages of bookings: parse the request, call one selector or service, render."""

from __future__ import annotations

import secrets

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.h5auth import current_follower, follower_required
from bookings import selectors, services
from bookings.forms import ActionForm, BookingForm
from bookings.models import Booking, BookingPhoto
from bookings.photos import photo_path

PAGE_SIZE = 20
TABS = (("open", "待办"), ("closed", "已办"))


def _tab(request) -> str:
    return "closed" if request.GET.get("tab") == "closed" else "open"


def _page(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def _render(request, template: str, context: dict, *, nav: str = "", status: int = 200):
    context = {**context, "nav": nav, "show_manage_tab": selectors.can_handle_any(request.follower)}
    return render(request, template, context, status=status)


@follower_required
def catalog(request):
    categories = [c for c in selectors.active_categories() if c.active_packages]
    return _render(request, "bookings/catalog.html", {"categories": categories}, nav="catalog")


@follower_required
def package_detail(request, pk: int):
    package = selectors.active_package(pk)
    return _render(request, "bookings/package.html", {"package": package}, nav="catalog")


@follower_required
def book(request, pk: int):
    package = selectors.active_package(pk)
    follower = request.follower
    status = 200
    if request.method == "POST":
        form = BookingForm(request.POST, request.FILES, package=package)
        if form.is_valid():
            try:
                booking, created = services.submit_booking(
                    follower=follower,
                    package=package,
                    data=form.booking_data(),
                    photos=form.processed_photos,
                    submit_token=form.cleaned_data["submit_token"],
                )
            except services.BookingRateLimited as exc:
                form.add_error(None, str(exc))
                status = 429
            except services.BookingError as exc:
                form.add_error(None, str(exc))
            else:
                text = "预约已提交，渠道经理会尽快与您联系" if created else "该预约已提交，无需重复提交"
                messages.success(request, text)
                return redirect("bookings:detail", pk=booking.pk)
        if status == 200:
            status = 400
    else:
        form = BookingForm(
            package=package,
            initial={
                "submit_token": secrets.token_urlsafe(24),
                "name": follower.real_name,
                "phone": follower.phone,
                "address": follower.address,
            },
        )
    return _render(request, "bookings/book.html", {"package": package, "form": form}, nav="catalog", status=status)


@follower_required
def my_bookings(request):
    tab = _tab(request)
    page = _page(request, selectors.customer_bookings(request.follower, tab=tab))
    return _render(request, "bookings/my_list.html", {"page": page, "tab": tab, "tabs": TABS}, nav="mine")


@follower_required
def detail(request, pk: int):
    """The customer's query page of one booking (his manager may open it too)."""
    booking = selectors.booking_for_viewer(pk, request.follower)
    return _render(
        request,
        "bookings/detail.html",
        {
            "booking": booking,
            "events": selectors.booking_timeline(booking),
            "photos": booking.photos.all(),
            "actions": selectors.allowed_actions(booking, follower=request.follower),
            "is_customer": selectors.is_customer(booking, request.follower),
            "is_handler": selectors.is_handler(booking, request.follower),
        },
        nav="mine",
    )


@follower_required
def manage_list(request):
    if not selectors.can_handle_any(request.follower):
        raise PermissionDenied("仅渠道经理可查看")
    tab = _tab(request)
    page = _page(request, selectors.handled_bookings(request.follower, tab=tab))
    return _render(request, "bookings/manage_list.html", {"page": page, "tab": tab, "tabs": TABS}, nav="manage")


@follower_required
def manage(request, pk: int):
    """The manager's booking page, opened from the template message."""
    booking = selectors.booking_for_handler(pk, request.follower)
    return _render(
        request,
        "bookings/manage.html",
        {
            "booking": booking,
            "events": selectors.booking_timeline(booking),
            "photos": booking.photos.all(),
            "actions": selectors.allowed_actions(booking, follower=request.follower),
        },
        nav="manage",
    )


@require_POST
@follower_required
def act(request, pk: int):
    form = ActionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "操作参数不正确，请重试")
        return redirect("bookings:detail", pk=pk)
    target = "bookings:manage" if form.cleaned_data["return_to"] == "manage" else "bookings:detail"
    action = form.cleaned_data["action"]
    try:
        booking = services.change_booking_status(
            booking_id=pk, action=action, actor_follower=request.follower, note=form.cleaned_data["note"]
        )
    except Booking.DoesNotExist:
        raise Http404("预约不存在") from None
    except services.BookingPermissionError as exc:
        raise PermissionDenied(str(exc)) from None
    except services.BookingError as exc:
        messages.error(request, str(exc))
        return redirect(target, pk=pk)
    if action == services.Action.UNREACHABLE:
        messages.success(request, f"已记录联系不上（第{booking.contact_attempts}次）")
    else:
        messages.success(request, f"操作成功：{services.Action(action).label}")
    return redirect(target, pk=pk)


def photo(request, token: str):
    """A booking photo, to the booking's customer, its handler or staff with view permission only."""
    item = get_object_or_404(BookingPhoto.objects.select_related("booking", "booking__channel_manager"), token=token)
    follower = current_follower(request)
    if follower is not None and not follower.is_subscribed:
        follower = None
    user = request.user if request.user.is_authenticated else None
    if not selectors.can_view(item.booking, follower=follower, user=user):
        raise PermissionDenied("无权查看该照片")
    path = photo_path(item.token)
    if not path.exists():
        raise Http404("照片不存在")
    response = FileResponse(path.open("rb"), content_type=item.content_type)
    # Private to this viewer: no shared cache may keep it.
    response["Cache-Control"] = "private, max-age=3600"
    response["Content-Disposition"] = "inline"
    return response
