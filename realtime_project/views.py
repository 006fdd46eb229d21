from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie


@ensure_csrf_cookie
def dashboard(request):
    """The live dashboard page; the React app in frontend/ does the rest.

    The CSRF cookie is set here so the page's session-authenticated API calls
    can send it back in X-CSRFToken.
    """
    return render(request, "dashboard.html")
