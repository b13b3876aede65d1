"""Every page in the users' own language: a walk of the site as every demo role (and anonymously)
that fails on English words, raw enum values / code names (snake_case, SETTING_NAMES) and geometry
or JSON fragments in the zh-hans interface, printing each page's URL, the role and the words found.

The walk starts at / (and the pages no link leads to) and follows same-site GET links (a href,
hx-get), at most a few pages per URL name, so pages added later are walked too. Text checked: what
a user reads — the page's text without <script>/<style>; title, placeholder, aria-label, alt, label,
hx-confirm and button values; data- attributes holding text for scripts; the phone app's texts
catalogue and the names/labels in other json_script data. Not words: an element marked
translate="no" (a key to type), URLs, all-capital codes, the allow-list below. The data (registers,
sensors, a few days of cases through the real actions, a watch list, evaluation reports, imports) is
built in the test's transaction (~20 s); the walk takes about a minute; the test runs in the serial pass."""

import json
import re
import time
from collections import Counter, defaultdict
from datetime import timedelta
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone

from wangge.accounts.models import User
from wangge.jobs.models import Job
from wangge.registry.actions import update_person
from wangge.registry.models import Person, PersonType, Tag, TagKind
from wangge.watch.actions import add_entries, queue_screening
from wangge.watch.models import WatchList

pytestmark = [pytest.mark.django_db, pytest.mark.serial]

ROLES = [
    "admin",
    "city_dispatcher",
    "town_dispatcher",
    "village_dispatcher",
    "grid_manager",
    "fire_handler",
    "leader",
    "hotline",
    "landlord",
    "citizen",
    None,  # anonymous
]
START = ["/", "/report/", "/track/", "/patrol/m/", "/login/unlock/"]  # and the pages no link leads to
PER_URL_NAME = 3  # pages walked per URL name (a list and its filtered copies, detail pages)
# Not walked: leaving (logout, language), the Django admin (its own translations), files and streams.
SKIP_NAMES = {"logout", "set_language", "live_stream", "mobile_service_worker", "mobile_manifest"}
SKIP_NAME_PARTS = ("export", "download", "photo", "geojson", "template", "qr", "plate", "print")
SKIP_PREFIXES = ("/admin/", "/i18n/", "/api/", "/static/", "/media/")

# Pages that show the data build_data() makes: the walk must reach them.
MUST_WALK = {
    "case_detail", "registry:person_detail", "registry:building_detail", "area_detail", "jobs:detail",
    "patrol:inspection_detail", "patrol:task_list", "evaluation:report", "watch:list", "command_spots",
    "sensors:detail", "public_track", "notify:list", "patrol:mobile_app", "callbacks:queue", "callbacks:detail",
    "summons:list", "summons:detail",
    "proactive:list", "routing_models", "routing_case_panel",
}  # fmt: skip

# Latin words a Chinese interface shows as they are (all-capital codes and abbreviations, e.g. GPS,
# XLSX, a tracking number, pass anyway), and the users' own names (usernames, added in the test).
ALLOWED_WORDS = {
    "app", "wifi", "excel", "wangge",  # words Chinese users read as they are; the product's name
    "lel", "obs", "ppm", "kpa", "mpa", "lux", "dba",  # units: %LEL (gas), %obs/m (smoke), pressure, light, noise
    "english",  # the language menu names English in English, as every language menu does
    "microsoft", "google", "authenticator", "freeotp",  # authenticator apps, named as their stores name them
    "ljx",  # pinyin initials, the example of a picker's search (垃圾箱)
}  # fmt: skip
WORD = re.compile(r"(?<![A-Za-z0-9_.@/-])[A-Za-z][A-Za-z]{2,}(?![A-Za-z0-9_@/-])")
# snake_case: an enum value, a field name or a setting (RECURRENCE_DAYS)
CODE = re.compile(r"\b[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)+\b")
URL = re.compile(r"https?://\S+")
PLACEHOLDER = re.compile(r"%\(\w+\)[sdf]")
FRAGMENT = re.compile(r"Polygon|MultiPolygon|\{\s*\"|\"\s*:\s*[\[{\"]|\[\[")
TEXT_ATTRIBUTES = {"title", "placeholder", "aria-label", "alt", "label", "hx-confirm"}
# data- attributes hold texts for scripts (data-sent="已发送") and data (codes, URLs, JSON).
DATA_VALUE = re.compile(r"[a-z0-9_:.,/?=&%#-]*|[{\[].*|https?:.*", re.DOTALL)
# json_script data: every string of a texts catalogue (the phone app's), and in other data the
# strings a script shows (chart series and axis names, labels); codes and URLs beside them are data.
JSON_TEXTS = {"app-text"}
JSON_TEXT_KEYS = {"name", "label", "title", "text", "labels"}
# Django's bare error pages; the site's own error pages (issue #15 item 3) are walked like any page.
BARE_ERROR = re.compile(r"<h1>(Not Found|403 Forbidden|Bad Request \(400\)|Server Error \(500\))</h1>")


class VisibleText(HTMLParser):
    """The text a user reads, and the links a user (or htmx) follows. Elements marked
    translate="no" (the HTML attribute for codes and keys shown as they are) are not read."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self.links, self.texts = [], [], []
        self.skip = 0  # inside <script>/<style>
        self.untranslated = None  # [tag, depth] of the translate="no" element we are in
        self.json = None  # inside a json_script: its id

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("href") and tag == "a":
            self.links.append(attrs["href"])
        if attrs.get("hx-get"):
            self.links.append(attrs["hx-get"])
        if tag in ("script", "style"):
            self.skip += 1
            self.json = attrs.get("id") if attrs.get("type") == "application/json" else None
            return
        if self.untranslated:
            self.untranslated[1] += tag == self.untranslated[0]
            return
        if attrs.get("translate") == "no":
            self.untranslated = [tag, 1]
            return
        for name, value in attrs.items():
            if value and (name in TEXT_ATTRIBUTES or name.startswith("data-") and is_text(value)):
                self.parts.append(value)
        if tag == "input" and attrs.get("type") in ("submit", "button") and attrs.get("value"):
            self.parts.append(attrs["value"])

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.skip = max(0, self.skip - 1)
            self.json = None
        elif self.untranslated and tag == self.untranslated[0]:
            self.untranslated[1] -= 1
            if not self.untranslated[1]:
                self.untranslated = None

    def handle_data(self, data):
        if self.json:
            self.texts.extend(strings_in(json.loads(data), everything=self.json in JSON_TEXTS))
        elif not self.skip and not self.untranslated:
            self.parts.append(data)


def is_text(value):
    return not DATA_VALUE.fullmatch(value)


def strings_in(value, everything=False):
    """The strings of a json_script value a user reads: all of them, or those under JSON_TEXT_KEYS."""
    if isinstance(value, str):
        if everything:
            yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings_in(item, everything or key in JSON_TEXT_KEYS)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item, everything)


def problems_in(text, allowed):
    text = URL.sub(" ", text)  # an address shown to copy (a door plate's) is not words
    text = PLACEHOLDER.sub(" ", text)  # %(name)s in a script's catalogue: filled in before it is shown
    found = []
    for match in CODE.finditer(text):
        if match.group() not in allowed:  # a username is written as it is
            found.append(match.group())
    for match in FRAGMENT.finditer(text):
        found.append(match.group())
    for match in WORD.finditer(text):
        word = match.group()
        # All capitals: a code read letter by letter (a tracking number, a key), never a sentence.
        if word.lower() not in allowed and not word.isupper():
            found.append(word)
    return found


def context_of(text, token):
    at = text.find(token)
    return " ".join(text[max(0, at - 40) : at + len(token) + 40].split())


def walkable(url):
    """(path with query, URL name) for a same-site page worth walking, else None."""
    url, _ = urldefrag(url)
    parts = urlsplit(url)
    if parts.scheme not in ("", "http", "https") or parts.netloc not in ("", "testserver"):
        return None
    path = parts.path
    if not path.startswith("/") or path.startswith(SKIP_PREFIXES):
        return None
    try:
        match = resolve(path)
    except Resolver404:
        return None
    name = match.view_name
    if name.split(":")[-1] in SKIP_NAMES or any(part in name for part in SKIP_NAME_PARTS):
        return None
    return (path + (f"?{parts.query}" if parts.query else "")), name


SECONDS = Counter()  # per URL name: where the walk's time goes (printed)


def walk(client, role, allowed):
    """Walk the site as this client; {(url, role): [(token, context)]}."""
    queue = list(START)
    seen, per_name, found = set(), Counter(), {}
    while queue:
        target = walkable(queue.pop(0))
        if target is None or target[0] in seen:
            continue
        url, name = target
        seen.add(url)
        if per_name[name] >= PER_URL_NAME:
            continue
        per_name[name] += 1
        started = time.monotonic()
        response = client.get(url)
        SECONDS[name] += time.monotonic() - started
        if response.status_code in (301, 302):
            queue.append(urljoin(url, response["Location"]))
            continue
        if response.status_code >= 500:
            found[(url, role or "anonymous")] = [(f"HTTP {response.status_code}", "")]
            continue
        if getattr(response, "streaming", False) or "text/html" not in response.get("Content-Type", ""):
            response.close()  # a file or an event stream: not read (a stream would not end)
            continue
        body = response.content.decode()
        if BARE_ERROR.search(body):
            continue
        parser = VisibleText()
        parser.feed(body)
        text = " ".join(" ".join(parser.parts + parser.texts).split())
        problems = problems_in(text, allowed)
        if problems:
            found[(url, role or "anonymous")] = [(p, context_of(text, p)) for p in dict.fromkeys(problems)]
        queue.extend(urljoin(url, link) for link in parser.links)
    return found, per_name


def build_data():
    """Registers, sensors, a few days of cases (timelines, assignments, change records) through
    the real actions, and an import job, in the test city."""
    from wangge.demo_history import Options, seed_history
    from wangge.evaluation.demo import seed_evaluation
    from wangge.registry.demo import seed_registers
    from wangge.sensors.demo import seed_demo_sensors

    quiet = {"log": lambda line: None}
    seed_registers("test", **quiet)
    seed_demo_sensors(**quiet)
    options = Options(days=4, cases_per_day=6, villages=(("441900122", 1),))
    seed_history("test", options=options, end=timezone.now() - timedelta(hours=1), **quiet)
    admin = User.objects.get(username="admin")
    # A change of a person's type and tags (the history shows labels, not codes).
    person = Person.objects.filter(person_type=PersonType.FLOATING).exclude(id_number_masked="").first()
    tags = list(Tag.objects.filter(kind=TagKind.PERSON).values_list("code", flat=True)[:2])
    update_person(admin, person, {"name": person.name, "person_type": PersonType.REGISTERED, "tags": tags})
    # A watch list that finds that person (the review queue), and last month's evaluation reports.
    watch_list = WatchList.objects.create(name="走查名单")
    add_entries(watch_list, [{"name": person.name, "id_number": person.id_number}], acting_user=admin)
    queue_screening(admin, watch_list, inline=True)
    seed_evaluation(**quiet)
    # Callbacks: one citizen reached (the case's timeline shows the result), one not reached yet.
    from wangge.callbacks.actions import record_result
    from wangge.callbacks.models import CallbackTask

    dispatcher = User.objects.get(username="town_dispatcher")
    first, second = CallbackTask.objects.filter(state="open")[:2]
    record_result(first.pk, dispatcher, reached=True, resolved=True, satisfaction=5, note="已修好")
    record_result(second.pk, dispatcher, reached=False)
    # Summonses (吹哨报到): one for a case with a flagged report and an arrival, one campaign waiting.
    from wangge.summons.demo import seed_summonses

    seed_summonses(**quiet)
    # 未诉先办: a recurring spot turned into a spot check, and a spot rule over the town.
    from wangge.areas.models import Area
    from wangge.cases.actions import Report, report_case
    from wangge.proactive.actions import act_on_spot, run_spot_rules
    from wangge.proactive.models import SpotRule

    grid = Area.objects.get(code="441900122002001")
    manager = User.objects.get(username="grid_manager")
    for i in range(3):
        point = {"lat": grid.centroid_lat + i * 0.0002, "lng": grid.centroid_lng}
        report_case(Report("消防通道堵塞", "grid_manager", **point, matter_item="fire_exit"), manager)
    spot = {"lat": grid.centroid_lat + 0.0002, "lng": grid.centroid_lng, "kind": "task", "note": "走查"}
    act_on_spot(dispatcher, category=_fire_exit_category(), **spot)
    SpotRule.objects.create(name="厚街高发", area=Area.objects.get(code="441900122"), min_cases=3)
    run_spot_rules()
    # Imports: one checked and done, one refused with row errors (previews, counts, errors).
    client = Client()
    client.force_login(admin)
    header = ["部门代码", "部门名称", "所属区域代码", "层级", "启用"]
    for rows in ([["walk001", "走查部门", "441900", "市", "是"]], [["", "坏行", "999999", "省", "也许"]]):
        content = "\n".join(",".join(row) for row in [header, *rows]).encode()
        client.post(reverse("jobs:import", args=["departments"]), {"file": SimpleUploadedFile("d.csv", content)})
        client.post(reverse("jobs:confirm", args=[Job.objects.latest("pk").pk]), {"partial": "0"})


def _fire_exit_category() -> str:
    from wangge.cases.models import MatterItem

    category = MatterItem.objects.select_related("category").get(code="fire_exit").category
    return f"{category.kind}:{category.code}"


def test_no_english_or_codes_on_any_page(settings, tmp_path):
    settings.JOBS_ROOT = tmp_path / "jobs"
    build_data()
    allowed = ALLOWED_WORDS | {u.lower() for u in User.objects.values_list("username", flat=True)}
    report, walked = defaultdict(list), Counter()
    for role in ROLES:
        client = Client(raise_request_exception=False)  # a 500 is reported with its page and role
        if role:
            client.force_login(User.objects.get(username=role))
        found, per_name = walk(client, role, allowed)
        walked.update(per_name)
        for key, items in found.items():
            report[key] = items
    print("pages walked per URL name:", sorted(walked.items()))
    print("slowest:", [(name, round(s, 1)) for name, s in SECONDS.most_common(8)])
    # The walk reached the pages that show the built data (timelines, change history, jobs, ...).
    missing = {name for name in MUST_WALK if not walked[name]}
    assert not missing, (missing, walked)
    lines = [f"{role} {url}\n" + "".join(f"    {token!r}: …{ctx}…\n" for token, ctx in items)
             for (url, role), items in sorted(report.items(), key=lambda kv: (kv[0][1], kv[0][0]))]  # fmt: skip
    tokens = Counter(token for items in report.values() for token, _ in items)
    summary = "、".join(f"{token} ({n})" for token, n in tokens.most_common(30))
    assert not report, f"{len(report)} pages show English or codes: {summary}\n" + "".join(lines)
