from django.utils.functional import SimpleLazyObject

from .actions import unread_count


def notifications(request):
    """notify_unread: the signed-in user's unread count for the bell (one COUNT, only if a page shows it)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"notify_unread": SimpleLazyObject(lambda: unread_count(user))}
