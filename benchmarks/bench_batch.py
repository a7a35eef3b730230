"""A batch on a shaped link: 200 apps, two 4 MiB APKs each, over 200 Mbit/s and 60 ms RTT.

The emulator (its own process, one token per app) enforces a per-token quota on every endpoint
(`--quota 2/1`: 2 calls a second, burst 1, per token and endpoint; the live store publishes
no figure). Every contender reaches it through the shaper (`shaper.py`: a shared byte-rate
bucket each way, 30 ms each way, one RTT per new connection), in this process's background
thread. Each contender runs as its own process, against a fresh emulator and shaper:

- `storepush --json batch MANIFEST --concurrency 16` (the command line, its default limits);
- storepush's library as the README shows it, with the limiter set to the quota;
- a naive `asyncio.gather` over bare aiohttp, no limiter (`batch_clients.py naive`; it
  retries a 429 after 1 s and nothing else);
- the documented sequential `requests` script (`batch_clients.py sequential`).

The floor is the larger of the bytes (every APK's bytes over the link at its rate) and one
app's chain: the four calls the protocol needs (create, upload, upload, commit), each a round
trip, the uploads' bytes at the full link rate, and the quota's spacing between the two
uploads. storepush's extra reads (its checks for a re-run and for a draft) count against it.
Times are each client's own (start-up excluded); 429s are counted by the emulator.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import resource
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness import (
    HERE,
    MIB,
    ChildRun,
    Context,
    EmulatorProcess,
    emulator_process,
    pyplot,
    quota_arg,
    run_child,
    sample_apk,
)
from report import Target
from shaper import LinkSpec, LinkStats, ShaperThread

import storepush

NAME = "batch"
TITLE = "A batch on a shaped link"
ARCHS = ("arm64-v8a", "armeabi-v7a")
CONCURRENCY = 16
QUOTA_RATE, QUOTA_BURST = 2.0, 1
GOAL_RATIO, GOAL_429 = 1.15, 0.01


@dataclass(frozen=True)
class Floor:
    bytes_seconds: float
    chain_seconds: float

    @property
    def seconds(self) -> float:
        return max(self.bytes_seconds, self.chain_seconds)


def batch_floor(
    app_uploads: list[list[int]], link: LinkSpec, quota_rate: float, quota_burst: int
) -> Floor:
    """The floor of a batch: bytes over the link, or the slowest app's chain of calls.

    One app's chain: create (a round trip); each upload's request arrives one-way after the
    previous answer, but not before the quota lets it (the n-th call to one endpoint, from a
    full bucket of `quota_burst`, arrives no sooner than `(n - burst + 1) / rate` after the
    first), then its bytes at the full link rate and the answer one-way back; then commit.
    """
    rate = link.bytes_per_second or float("inf")
    d = link.one_way
    total = sum(sum(sizes) for sizes in app_uploads)
    chains = []
    for sizes in app_uploads:
        t = 2 * d  # create
        first_arrival = None
        for n, size in enumerate(sizes):
            arrival = t + d
            if first_arrival is None:
                first_arrival = arrival
            else:
                arrival = max(arrival, first_arrival + max(0, n - quota_burst + 1) / quota_rate)
            t = arrival + size / rate + d
        chains.append(t + 2 * d)  # commit
    return Floor(total / rate, max(chains, default=0.0))


@dataclass(frozen=True)
class Contender:
    label: str
    seconds: float  #: the batch as the client timed it (start-up excluded)
    wall: float  #: the whole process
    client_cpu: float
    emulator_cpu: float
    harness_cpu: float  #: this process: the shaper's thread (and the sampling)
    requests: int  #: as the emulator logged them
    throttled: int  #: 429s the emulator answered
    failed: int  #: apps not published (client's report)
    committed_ok: int  #: apps with exactly one committed release of two packages
    link: LinkStats
    link_offset: float  #: seconds from the shaper's start to the client's start
    #: (seconds from the client's start, app, endpoint, status) of every request
    log: list[tuple[float, str, str, int]]
    errors: list[str]

    @property
    def throttled_share(self) -> float:
        return self.throttled / max(1, self.requests)

    @property
    def first_request(self) -> float:
        return min((t for t, *_ in self.log), default=0.0)

    @property
    def last_request(self) -> float:
        return max((t for t, *_ in self.log), default=0.0)

    def peak_mbit(self) -> float:
        """The client's best second on the up link (what the shaper delivered at most)."""
        start = self.link_offset + self.first_request
        return self.link.peak_rate(start, self.link_offset + self.last_request) * 8 / 1e6

    def busy(self, rate: float) -> float:
        """How full the up link was from the first request to the last one's arrival."""
        start = self.link_offset + self.first_request
        return self.link.busy_fraction(rate, start, self.link_offset + self.last_request)


@dataclass(frozen=True)
class BatchBench:
    apps: int
    apk_size: int
    link: LinkSpec
    floor: Floor
    contenders: list[Contender]
    plot: str | None

    title = TITLE

    def targets(self) -> list[Target]:
        sp = self.contenders[0]
        ratio = sp.seconds / self.floor.seconds
        rate = self.link.bytes_per_second or float("inf")
        limit = batch_limit(
            ratio,
            throttled=sp.throttled_share,
            busy=sp.busy(rate),
            cores=(sp.client_cpu + sp.emulator_cpu + sp.harness_cpu) / sp.seconds,
            calls_per_app=(sp.requests - sp.throttled) / self.apps,
            chain_bound=self.floor.chain_seconds >= self.floor.bytes_seconds * 0.8,
        )
        ok = sp.committed_ok == self.apps and not sp.failed
        return [
            Target(
                f"batch on a shaped link ({self.apps} apps), storepush wall ÷ floor",
                f"≤ {GOAL_RATIO:.2f}×",
                f"{ratio:.2f}×"
                + ("" if ok else f" ({self.apps - sp.committed_ok} apps not published)"),
                ratio <= GOAL_RATIO and ok,
                limit,
            ),
            Target(
                "batch on a shaped link, storepush's 429s",
                "< 1 %",
                f"{sp.throttled_share:.1%} ({sp.throttled} of {sp.requests})",
                sp.throttled_share < GOAL_429,
                f"{throttle_detail(sp.log)}; the command line's limiter starts at storepush's "
                f"default ({default_limit()}) per token and endpoint and adapts on 429s",
            ),
        ]

    def markdown(self) -> str:
        rate = self.link.bytes_per_second or float("inf")
        rows = []
        for c in self.contenders:
            rows.append(
                f"| {c.label} | {c.seconds:.2f} | {c.seconds / self.floor.seconds:.2f}× | "
                f"{c.throttled} ({c.throttled_share:.1%}) | {c.requests} | {c.busy(rate):.0%} | "
                f"{c.peak_mbit():.0f} | "
                f"{c.client_cpu:.1f} | {c.emulator_cpu:.1f} | {c.committed_ok}/{self.apps} |"
            )
        errors = "".join(
            f"\n{c.label}: {'; '.join(c.errors)}\n" for c in self.contenders if c.errors
        )
        causes = "".join(
            f"\n- {c.label}: {throttle_detail(c.log)}." for c in self.contenders if c.throttled
        )
        if causes:
            causes = "\nWhere the 429s came from (the emulator's log):\n" + causes + "\n"
        plot = (
            f"\n![the batch's requests over time against the quota]({self.plot})\n"
            if self.plot
            else ""
        )
        total = self.apps * 2 * self.apk_size
        return f"""{self.apps} apps (one token each), each publishing two {self.apk_size // MIB} MiB
APKs ({total / 1e6:.0f} MB in all), over a link of {self.link.describe()}, to the emulator with a
quota of {QUOTA_RATE:g}/s (burst {QUOTA_BURST}) per token and endpoint. storepush runs
{CONCURRENCY} apps at once; the naive script starts every app at once and retries only 429s
(after 1 s), the sequential one retries 429s the same way. "seconds" is each client's own
time for the batch (process start-up excluded); 429s and requests are the emulator's counts.

The floor is {self.floor.seconds:.2f} s: the bytes take {self.floor.bytes_seconds:.2f} s at the
link's rate; one app's chain of calls (create, two uploads spaced by the quota, commit, at
{self.link.rtt * 1000:g} ms a round trip) takes {self.floor.chain_seconds:.2f} s.

| run | seconds | vs floor | 429s | requests | link busy | best 1 s (Mbit/s) | client CPU s | emulator CPU s | published |
|---|---|---|---|---|---|---|---|---|---|
{chr(10).join(rows)}

"link busy": bytes the client sent over the link from its first request to its last ÷ what
the link's rate allows in that time; "best 1 s": the most the client sent in any second.
"published": apps with exactly one committed release holding both APKs.
{causes}{errors}{plot}"""


def default_limit() -> str:
    limit = storepush.Limits().default
    return f"{limit.rate:g}/s, burst {limit.burst}"


def throttle_detail(log: list[tuple[float, str, str, int]]) -> str:
    """Which endpoints the 429s were on, and how many were an upload arriving closer to the
    app's previous upload than the quota's spacing (1/rate)."""
    by_endpoint: dict[str, int] = defaultdict(int)
    close = 0
    last_upload: dict[str, float] = {}
    for t, who, endpoint, status in sorted(log):
        if status == 429:
            by_endpoint[endpoint] += 1
            previous = last_upload.get(who)
            if endpoint == "upload" and previous is not None and t - previous < 1 / QUOTA_RATE:
                close += 1
        if endpoint == "upload":
            last_upload[who] = t
    if not by_endpoint:
        return "no 429s"
    where = ", ".join(f"{n} on {e}" for e, n in sorted(by_endpoint.items(), key=lambda kv: -kv[1]))
    return (
        f"429s: {where}; {close} of them on an upload arriving less than {1 / QUOTA_RATE:g} s "
        "after the same app's previous upload"
    )


def batch_limit(
    ratio: float,
    *,
    throttled: float,
    busy: float,
    cores: float,
    calls_per_app: float,
    chain_bound: bool,
) -> str:
    """What held storepush above the floor, from the run's own figures (empty when met)."""
    if ratio <= GOAL_RATIO:
        return ""
    reasons = []
    if throttled >= GOAL_429:
        reasons.append(f"{throttled:.1%} of requests got a 429 and were retried after a wait")
    if cores > 1.6:
        reasons.append(f"CPU: client, emulator and shaper kept {cores:.1f} of the 2 cores busy")
    if chain_bound:
        reasons.append(
            "with this few apps one app's chain of calls is the floor, and storepush makes "
            f"{calls_per_app:.1f} calls per app where the protocol needs 4, each a round trip"
        )
    elif busy < 0.9:
        reasons.append(
            f"the link was idle {1 - busy:.0%} of the run: too few uploads in flight to cover "
            f"each app's round trips (concurrency {CONCURRENCY})"
        )
    return "; ".join(reasons) or f"the link (busy {busy:.0%}) and the last apps' chains"


# -- running -----------------------------------------------------------------------------------


def make_apps(ctx: Context, apps: int, apk_size: int) -> list[dict[str, Any]]:
    items = []
    for i in range(apps):
        package = f"com.bench.batch.app{i:04d}"
        apks = []
        for j, arch in enumerate(ARCHS):
            path = sample_apk(
                ctx,
                f"batch{i:04d}-{arch}",
                package=package,
                version_code=(2 - j) * 1000 + 1,
                size=apk_size,
                seed=1000 + 2 * i + j,
                abis=(arch,),
            )
            apks.append([str(path), arch])
        items.append({"token": f"bench-batch-token-{i:04d}", "package": package, "apks": apks})
    return items


def write_manifest(folder: Path, items: list[dict[str, Any]]) -> tuple[Path, dict[str, str]]:
    """A `storepush batch` manifest for the apps, and the environment holding their tokens."""
    lines, env = [], {}
    for i, item in enumerate(items):
        var = f"BENCH_BATCH_TOKEN_{i:04d}"
        env[var] = item["token"]
        apks = ", ".join(json.dumps(f"{path}:{arch}") for path, arch in item["apks"])
        lines += [
            "[[bazaar]]",
            f'name = "app{i:04d}"',
            f'token_env = "{var}"',
            f"apks = [{apks}]",
            "",
        ]
    manifest = folder / "batch.toml"
    manifest.write_text("\n".join(lines))
    return manifest, env


def committed_apps(emu: EmulatorProcess) -> int:
    state = emu.admin("GET", "state").get("apps", {})
    good = 0
    for app in state.values():
        committed = [r for r in app.get("releases", []) if r.get("committed")]
        if len(committed) == 1 and len(committed[0].get("packages", [])) == 2:
            good += 1
    return good


def run_contender(
    ctx: Context,
    label: str,
    items: list[dict[str, Any]],
    link: LinkSpec,
    command: list[str],
    env: dict[str, str],
    reported: Any,
) -> Contender:
    """One contender against a fresh emulator and shaper; `reported` reads its stdout."""
    apps = {item["token"]: item["package"] for item in items}
    with emulator_process(ctx, apps, "--quota", quota_arg(QUOTA_RATE, QUOTA_BURST)) as emu:
        threaded = ShaperThread(emu.port, link)
        with threaded as shaper:
            base = shaper.url + "/v1"
            full_env = {k: v for k, v in os.environ.items() if not k.startswith("STOREPUSH_")}
            full_env.update(env)
            full_env["STOREPUSH_BAZAAR_BASE_URL"] = full_env["BENCH_BASE_URL"] = base
            emulator_before = emu.cpu_seconds()
            self_before = resource.getrusage(resource.RUSAGE_SELF)
            offset = threaded.elapsed()
            started = time.monotonic()
            run: ChildRun = run_child(command, env=full_env)
            self_after = resource.getrusage(resource.RUSAGE_SELF)
            emulator_cpu = emu.cpu_seconds() - emulator_before
            stats = threaded.snapshot()
        seconds, failed, errors = reported(run)
        log = [
            (float(e["t"]) - started, str(e.get("who")), str(e.get("endpoint")), e["status"])
            for e in emu.log()
            if isinstance(e.get("status"), int)
        ]
        committed = committed_apps(emu)
    harness_cpu = (self_after.ru_utime + self_after.ru_stime) - (
        self_before.ru_utime + self_before.ru_stime
    )
    return Contender(
        label,
        seconds,
        run.wall,
        run.cpu,
        emulator_cpu,
        harness_cpu,
        len(log),
        sum(1 for entry in log if entry[3] == 429),
        failed,
        committed,
        stats,
        offset,
        log,
        errors,
    )


def _from_cli(run: ChildRun) -> tuple[float, int, list[str]]:
    try:
        doc = json.loads(run.stdout)
    except ValueError:
        raise RuntimeError(
            f"storepush batch printed no JSON: {(run.stderr or run.stdout)[-600:]}"
        ) from None
    totals = doc.get("totals", {})
    errors = [
        f"{i.get('name')}: {(i.get('error') or {}).get('message', '')}"[:200]
        for i in doc.get("items", [])
        if not i.get("ok")
    ][:3]
    return float(totals.get("seconds", run.wall)), int(totals.get("failed", 0)), errors


def _from_script(run: ChildRun) -> tuple[float, int, list[str]]:
    run.check()
    doc = json.loads(run.stdout.strip().splitlines()[-1])
    return float(doc["seconds"]), int(doc["failed"]), list(doc["errors"])


def run(ctx: Context) -> BatchBench:
    apps, apk_size = (10, 1 * MIB) if ctx.quick else (200, 4 * MIB)
    link = LinkSpec(rate_bps=200e6, rtt=0.060, seed=1)
    items = make_apps(ctx, apps, apk_size)
    folder = ctx.scratch("batch")
    manifest, token_env = write_manifest(folder, items)
    # the base URL is the shaper's, known once it runs: the scripts read it from BENCH_BASE_URL
    spec = {"apps": items, "rate": QUOTA_RATE, "burst": QUOTA_BURST, "concurrency": CONCURRENCY}
    spec_path = folder / "spec.json"

    def script(kind: str) -> list[str]:
        return [ctx.python, str(HERE / "batch_clients.py"), kind, str(spec_path)]

    contenders = []
    runs: list[tuple[str, list[str], Any]] = [
        (
            f"storepush batch --concurrency {CONCURRENCY} (default limits)",
            [ctx.storepush, "--json", "batch", str(manifest), "--concurrency", str(CONCURRENCY)],
            _from_cli,
        ),
        (
            f"storepush library, limiter at the quota, {CONCURRENCY} at once",
            script("library"),
            _from_script,
        ),
        ("naive asyncio.gather over aiohttp, no limiter", script("naive"), _from_script),
        ("sequential requests script", script("sequential"), _from_script),
    ]
    spec_path.write_text(json.dumps(spec))
    for label, command, reported in runs:
        for stale in folder.glob("batch.toml.*"):
            stale.unlink()  # the journal of an earlier run
        contenders.append(run_contender(ctx, label, items, link, command, token_env, reported))
    sizes = [[Path(p).stat().st_size for p, _ in item["apks"]] for item in items]
    floor = batch_floor(sizes, link, QUOTA_RATE, QUOTA_BURST)
    return BatchBench(apps, apk_size, link, floor, contenders, plot(ctx, link, contenders))


def plot(ctx: Context, link: LinkSpec, contenders: list[Contender]) -> str | None:
    """Requests over time against the quota, the link's use, and one app's upload spacing.

    Time runs from each contender's first request. A contender that takes more than three times
    as long as the quickest (the sequential script) is left out of the two time panels, which
    would otherwise be too compressed to read; its figures are in the table.
    """
    plt = pyplot()
    if plt is None or not contenders:
        return None
    quickest = min(c.last_request - c.first_request for c in contenders)
    timed = [c for c in contenders if c.last_request - c.first_request <= 3 * quickest + 1]
    longest = max(c.last_request - c.first_request for c in timed)
    width = max(0.1, round(longest / 80, 1))
    fig, axes = plt.subplots(3, 1, figsize=(9, 10))
    colours = dict(zip([c.label for c in contenders],
                       ["tab:blue", "tab:green", "tab:orange", "tab:purple"], strict=False))  # fmt: skip
    for c in timed:
        colour = colours.get(c.label)
        count = int((c.last_request - c.first_request) / width) + 2
        ok, refused = [0] * count, [0] * count
        for t, _, _, status in c.log:
            i = min(count - 1, max(0, int((t - c.first_request) / width)))
            (refused if status == 429 else ok)[i] += 1
        xs = [i * width for i in range(count)]
        axes[0].plot(xs, [n / width for n in ok], color=colour, label=f"{c.label}: answered")
        if any(refused):
            axes[0].plot(xs, [n / width for n in refused], color=colour, linestyle=":",
                         label=f"{c.label}: 429")  # fmt: skip
        start = c.link_offset + c.first_request
        lo = int(start / c.link.bin)
        hi = int((c.link_offset + c.last_request) / c.link.bin) + 1
        per = [c.link.up_bins.get(b, 0) * 8 / c.link.bin / 1e6 for b in range(lo, hi)]
        axes[1].plot([b * c.link.bin - start for b in range(lo, hi)], per, color=colour,
                     linewidth=0.7, label=c.label)  # fmt: skip
    for c in contenders:
        gaps = upload_gaps(c.log)
        if gaps:
            low, high = math.log10(min(gaps)), math.log10(max(gaps)) + 1e-9
            edges = [10 ** (low + (high - low) * i / 40) for i in range(41)]
            axes[2].hist(gaps, bins=edges, histtype="step", color=colours.get(c.label),
                         label=c.label)  # fmt: skip
    left_out = [c.label for c in contenders if c not in timed]
    axes[0].set_ylabel("requests/s at the emulator")
    axes[0].set_title(
        f"Requests over time (quota: {QUOTA_RATE:g}/s, burst {QUOTA_BURST}, per token and endpoint)"
        + (
            f"\nnot shown here (too long to share the axis): {', '.join(left_out)}"
            if left_out
            else ""
        ),
        fontsize="medium",
    )
    axes[0].legend(fontsize="x-small")
    if link.rate_bps:
        axes[1].axhline(link.rate_bps / 1e6, color="red", linestyle="--", label="link rate")
    axes[1].set_ylabel("Mbit/s up the link")
    axes[1].set_xlabel("seconds from the contender's first request")
    axes[1].legend(fontsize="x-small")
    axes[2].axvline(
        1 / QUOTA_RATE, color="red", linestyle="--", label="the quota's spacing (1/rate)"
    )
    axes[2].set_xscale("log")
    axes[2].set_xlabel("seconds between one app's consecutive upload requests (at the emulator)")
    axes[2].set_ylabel("requests")
    axes[2].legend(fontsize="x-small")
    fig.tight_layout()
    name = "batch-requests.png"
    fig.savefig(ctx.out_dir / name, dpi=90)
    plt.close(fig)
    return name


def upload_gaps(log: list[tuple[float, str, str, int]]) -> list[float]:
    """Seconds between consecutive upload requests of the same app (first try to next)."""
    times: dict[str, list[float]] = defaultdict(list)
    for t, who, endpoint, _ in log:
        if endpoint == "upload":
            times[who].append(t)
    gaps = []
    for stamps in times.values():
        stamps.sort()
        gaps += [max(1e-4, b - a) for a, b in itertools.pairwise(stamps)]
    return gaps
