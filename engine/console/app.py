"""The web console: server-rendered pages over the Engine facade, mounted at ``/console``.

Pages read through the same facade the API uses (in Starlette's thread pool, as the API does)
and every button is a plain form that posts to an action, which calls the facade and redirects
back with a one-line message (post/redirect/get). The only script, ``static/console.js``,
refreshes pages that show something still running; everything works without it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Awaitable, Callable, Mapping
from urllib.parse import parse_qsl, quote, urlencode

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from engine.console import access, pages
from engine.console.access import CSRF_FIELD, ConsoleAccess
from engine.errors import ApiError

HERE = Path(__file__).parent
MAX_FORM_BYTES = 2 * 1024 * 1024   # a task's output may be 256 KiB of JSON, escaped in a form
SECURITY_HEADERS = {
    # the graphs are inline SVG with their own <style>; scripts only from our own files
    "content-security-policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; "
                               "img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
    "x-frame-options": "DENY",       # nobody frames the Approve button to click-jack it
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cache-control": "no-store",
}

Handler = Callable[[Request], Awaitable[Response]]
ActionHandler = Callable[[Request, dict], Awaitable[str]]


def create_console(engine: Any, keys: Mapping[str, str] | None = None) -> Starlette:
    """The console as an ASGI app to mount at ``/console``; ``keys`` (the API's access keys)
    turn the login on."""
    return Console(engine, ConsoleAccess(keys)).app()


class Console:
    def __init__(self, engine: Any, rules: ConsoleAccess):
        self.engine = engine
        self.rules = rules
        self.templates = Jinja2Templates(directory=str(HERE / "templates"))
        self.templates.env.filters.update(when=pages.when, duration=pages.duration,
                                          pretty=pages.pretty, short_arn=pages.short_arn)

    def app(self) -> Starlette:
        routes = [
            Route("/", self.page(self.home)),
            Route("/login", self.login_form, methods=["GET"]),
            Route("/login", self.login, methods=["POST"]),
            Route("/logout", self.action(self.logout), methods=["POST"]),
            Route("/state-machines", self.page(self.state_machines)),
            Route("/state-machine", self.page(self.state_machine)),
            Route("/state-machine/start", self.action(self.start), methods=["POST"]),
            Route("/executions", self.page(self.executions)),
            Route("/execution", self.page(self.execution)),
            Route("/execution/stop", self.action(self.stop), methods=["POST"]),
            Route("/execution/redrive", self.action(self.redrive), methods=["POST"]),
            Route("/tasks", self.page(self.tasks)),
            Route("/tasks/approve", self.action(self.approve), methods=["POST"]),
            Route("/tasks/reject", self.action(self.reject), methods=["POST"]),
            Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
        ]
        middleware = [Middleware(SessionMiddleware, secret_key=self.rules.session_secret(),
                                 session_cookie=access.SESSION_COOKIE, path="/console",
                                 max_age=access.SESSION_SECONDS, same_site="strict")]
        return Starlette(routes=routes, middleware=middleware)

    # -- plumbing ------------------------------------------------------------------------------

    def page(self, handler: Handler) -> Handler:
        async def endpoint(request: Request) -> Response:
            if not self.rules.signed_in(request.session):
                return _see_other(f"/console/login?{urlencode({'next': _here(request)})}")
            try:
                response = await handler(request)
            except ApiError as error:
                response = self.render(request, "error.html", {"error": error},
                                       status=404 if "DoesNotExist" in error.code else 400)
            return _secured(response)
        return endpoint

    def action(self, handler: ActionHandler) -> Handler:
        """A form post: signed in, not forged, then ``handler`` runs and names where to go back to;
        an API error becomes the message shown there."""
        async def endpoint(request: Request) -> Response:
            if not self.rules.signed_in(request.session):
                return _see_other("/console/login")
            form = await _form(request)
            if form is None:
                return _secured(PlainTextResponse("The form is too large.", status_code=413))
            reason = access.forged(request.session, form.get(CSRF_FIELD), request.headers,
                                   request.headers.get("host", ""))
            if reason is not None:
                return _secured(self.render(request, "error.html", {"message": reason}, status=403))
            back = access.safe_next(form.get("back"))
            try:
                back = await handler(request, form) or back
            except ApiError as error:
                _flash(request, "error", f"{error.code}: {error.message}")
            return _see_other(back)
        return endpoint

    def render(self, request: Request, template: str, context: dict, status: int = 200) -> Response:
        context = {**context, "csrf_token": access.csrf_token(request.session),
                   "csrf_field": CSRF_FIELD, "flash": request.session.pop("flash", None),
                   "signed_in_as": request.session.get("key_id"),
                   "login_required": self.rules.login_required, "here": _here(request)}
        return self.templates.TemplateResponse(request, template, context, status_code=status)

    async def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        return await run_in_threadpool(getattr(self.engine, method), *args, **kwargs)

    # -- login ---------------------------------------------------------------------------------

    async def login_form(self, request: Request) -> Response:
        if not self.rules.login_required:
            return _see_other("/console/")
        return _secured(self.render(request, "login.html",
                                    {"next": access.safe_next(request.query_params.get("next"))}))

    async def login(self, request: Request) -> Response:
        form = await _form(request) or {}
        reason = access.forged(request.session, form.get(CSRF_FIELD), request.headers,
                               request.headers.get("host", ""))
        target = access.safe_next(form.get("next"))
        if reason is None and self.rules.check_login(form.get("access_key_id", ""),
                                                    form.get("secret_access_key", "")):
            request.session.clear()
            request.session["key_id"] = form["access_key_id"]
            access.new_csrf_token(request.session)
            return _see_other(target)
        _flash(request, "error", reason or "Unknown access key id or wrong secret access key.")
        return _see_other(f"/console/login?{urlencode({'next': target})}")

    async def logout(self, request: Request, form: dict) -> str:
        request.session.clear()
        return "/console/login" if self.rules.login_required else "/console/"

    # -- pages ---------------------------------------------------------------------------------

    async def home(self, request: Request) -> Response:
        return _see_other("/console/executions")

    async def state_machines(self, request: Request) -> Response:
        machines = await run_in_threadpool(pages.all_state_machines, self.engine)
        return self.render(request, "state_machines.html", {"machines": machines})

    async def state_machine(self, request: Request) -> Response:
        arn = request.query_params.get("arn", "")
        machine = await self.call("describe_state_machine", arn)
        listing = await self._listing(request, arn)
        graph = await run_in_threadpool(pages.graph_svg, machine["definition"], None)
        return self.render(request, "state_machine.html",
                           {"machine": machine, "graph": graph, **listing,
                            "definition": pages.parsed(machine["definition"])})

    async def executions(self, request: Request) -> Response:
        listing = await self._listing(request, None)
        return self.render(request, "executions.html", listing)

    async def _listing(self, request: Request, machine_arn: str | None) -> dict:
        query = request.query_params
        status = query.get("status") or None
        if status not in pages.STATUSES:
            status = None
        found = await self.call("search_executions", machine_arn, status, query.get("q") or None,
                                50, query.get("page") or None)
        more = None
        if found.get("nextToken"):
            more = {**dict(query), "page": found["nextToken"]}
        return {"executions": found["executions"], "status": status, "q": query.get("q", ""),
                "statuses": pages.STATUSES, "more": urlencode(more) if more else None,
                "live": any(e["status"] == "RUNNING" for e in found["executions"])}

    async def execution(self, request: Request) -> Response:
        arn = request.query_params.get("arn", "")
        shown = await run_in_threadpool(pages.execution_page, self.engine, arn)
        return self.render(request, "execution.html", shown)

    async def tasks(self, request: Request) -> Response:
        state = request.query_params.get("state") or None
        found = await run_in_threadpool(pages.waiting_tasks, self.engine, state,
                                        request.query_params.get("page") or None)
        more = None
        if found.get("nextToken"):
            more = urlencode({**dict(request.query_params), "page": found["nextToken"]})
        return self.render(request, "tasks.html", {"tasks": found["tasks"], "state": state or "",
                                                   "more": more, "live": True})

    # -- actions -------------------------------------------------------------------------------

    async def start(self, request: Request, form: dict) -> str:
        started = await self.call("start_execution", form.get("arn", ""), form.get("name") or None,
                                  form.get("input") or "{}")
        _flash(request, "ok", "Execution started.")
        return _execution_page(started["executionArn"])

    async def stop(self, request: Request, form: dict) -> str:
        await self.call("stop_execution", form.get("arn", ""), form.get("error") or None,
                        form.get("cause") or None)
        _flash(request, "ok", "Execution stopped.")
        return _execution_page(form.get("arn", ""))

    async def redrive(self, request: Request, form: dict) -> str:
        await self.call("redrive_execution", form.get("arn", ""))
        _flash(request, "ok", "Execution redriven: it goes on from the states that did not succeed.")
        return _execution_page(form.get("arn", ""))

    async def approve(self, request: Request, form: dict) -> str:
        output = form.get("output") or "{}"
        await self.call("send_task_success", form.get("token", ""), output)
        _flash(request, "ok", f"Approved {form.get('state', 'the task')}.")
        return ""

    async def reject(self, request: Request, form: dict) -> str:
        await self.call("send_task_failure", form.get("token", ""), form.get("error") or None,
                        form.get("cause") or None)
        _flash(request, "ok", f"Rejected {form.get('state', 'the task')}.")
        return ""


def _execution_page(arn: str) -> str:
    return f"/console/execution?arn={quote(arn, safe='')}"


def _here(request: Request) -> str:
    """This page's path and query, to come back to after a login or an action."""
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


def _flash(request: Request, kind: str, text: str) -> None:
    request.session["flash"] = {"kind": kind, "text": text}


async def _form(request: Request) -> dict | None:
    """The url-encoded form (the only kind our pages send), or None when it is too large."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return None
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


def _see_other(location: str) -> Response:
    return _secured(RedirectResponse(location, status_code=303))


def _secured(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    return response

