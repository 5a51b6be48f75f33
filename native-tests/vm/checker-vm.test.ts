// The checker host's records as hostTrace() reads them: complete by
// construction, or the test fails with "trace incomplete: check N missing".
//
// A background host run writes its records twice: to the step's own stream
// (the trace) and to a log that until() steps poll. The two must be the same
// run's records. A log of a fixed name in /tmp was shared by every scenario
// of a boot that used the same label, so an until() step that started before
// the new host (it may: the background step is started with `&`) could count
// the previous scenario's results and let the scenario go on before the new
// host had checked anything (issue 16: "offline" gave "down → up").
//
// The unit part feeds hostTrace() records with results left out. The VM
// part runs a stand-in for the host (a shell script that takes the host's
// options and prints its records) in three scenarios of one boot: the first
// two use the same label and device, so the second would find the first's
// log under the old naming; the second host starts late (as a host loading
// its plugin under load does), so an until() step that reads another run's
// log passes before the host has printed anything. Every host also prints
// its first results at once, before any reader of its step could start.
import { beforeAll, describe, expect, it } from "vitest";
import { checker, hostTrace, PATH, type BackgroundHostRun, type HostRun } from "./checker-vm.ts";
import {
  collectResults,
  concat,
  getStep,
  runScenarios,
  scenario,
  SCENARIO_TMP,
  type DeviceRef,
  type ScenarioBuilder,
  type ScenarioResult,
  type ScenarioResults,
} from "./scenario.ts";
import type { VmRecord } from "./records.ts";

// ------------------------------------------------------------ unit: hostTrace() on given records

const S = "unit";
const clock = 1000;

/** A scenario result with one device (d1 = /dev/sg0), a background host step 0 and an until() step 1. */
function unitResult(host: object[], until: object[] = [], untilStatus = 0): { r: ScenarioResult; run: HostRun } {
  const steps = [
    { index: 0, label: "tur", kind: "background", required: false, command: "" },
    { index: 1, label: "tur: until up", kind: "checker-until", required: true, command: "" },
  ];
  const rec = (step: number, o: Record<string, unknown>): VmRecord => ({ scenario: S, step, label: steps[step]!.label, ...o, event: String(o.event) });
  const records: VmRecord[] = [
    { event: "scenario-begin", scenario: S },
    rec(0, { event: "device", var: "d1", sg: "/dev/sg0", sd: "", hctl: "0:0:0:0", host: 0 }),
    rec(0, { event: "step-begin", t: 0 }),
    ...host.map((d) => rec(0, { event: "data", data: d })),
    rec(0, { event: "step-end", status: 0 }),
    rec(1, { event: "step-begin", t: 0 }),
    ...until.map((d) => rec(1, { event: "data", data: d })),
    rec(1, { event: "step-end", status: untilStatus }),
    { event: "scenario-end", scenario: S, status: 0 },
  ];
  const r = collectResults([{ name: S, steps }], records).get(S)!;
  const dev = { name: "d1" } as DeviceRef;
  return { r, run: { label: "tur", checker: "tur", devices: [dev], waits: ["tur: until up"] } };
}

const started = { event: "started", paths: 1, threads: 0, clock };
const result = (check: number, state: number = PATH.up) => ({ event: "result", path: "/dev/sg0", t: check * 200, state, stateName: "x", msgid: 4, check, ms: 1 });
const finished = (n: number) => ({ event: "finished", t: 2000, threads: 0, maxThreads: 0, checks: [n] });
const counted = (checks: number[], c: number | null = clock) => ({ event: "until", clock: c, path: "/dev/sg0", state: PATH.up, msgid: -1, checks });

describe("hostTrace(): every result the host printed, or an error", () => {
  it("accepts a complete trace", () => {
    const { r, run } = unitResult([started, result(1), result(2), result(3), finished(3)], [counted([1, 2])]);
    expect(hostTrace(r, run).checks(run.devices[0]!).map((c) => c.check)).toEqual([1, 2, 3]);
  });

  it("fails when the first checks are missing", () => {
    const { r, run } = unitResult([started, result(3), result(4), finished(4)]);
    expect(() => hostTrace(r, run)).toThrow(/trace incomplete: check 1 missing/);
  });

  it("fails on a gap", () => {
    const { r, run } = unitResult([started, result(1), result(2), result(4), finished(4)]);
    expect(() => hostTrace(r, run)).toThrow(/trace incomplete: check 3 missing/);
  });

  it("fails when the last results are missing (the host's finished record counts them)", () => {
    const { r, run } = unitResult([started, result(1), result(2), finished(4)]);
    expect(() => hostTrace(r, run)).toThrow(/trace incomplete: check 3 missing/);
  });

  it("fails when an until() step counted checks the trace does not have", () => {
    const { r, run } = unitResult([started, result(1), result(2), finished(2)], [counted([2, 3])]);
    expect(() => hostTrace(r, run)).toThrow(/trace incomplete: check 3 missing/);
  });

  it("fails when an until() step read another host run's log", () => {
    const { r, run } = unitResult([started, result(1, PATH.down), result(2, PATH.up), finished(2)], [counted([1, 2], 5)]);
    expect(() => hostTrace(r, run)).toThrow(/in the log of another host run \(started at 5 ms; this run started at 1000 ms\)/);
  });

  it("fails when an until() step counted a state the trace does not show", () => {
    const { r, run } = unitResult([started, result(1, PATH.down), result(2), finished(2)], [counted([1, 2])]);
    expect(() => hostTrace(r, run)).toThrow(/check 1: "tur: until up" counted state 3/);
  });

  it("fails when a passed until() step does not say what it counted", () => {
    const { r, run } = unitResult([started, result(1), finished(1)], []);
    expect(() => hostTrace(r, run)).toThrow(/passed without saying which checks it counted/);
  });
});

// ------------------------------------------------------------ VM: a stand-in host

const FAKE_HOST = "/opt/mpcg/fake-host";
const BURST = 5;
const INTERVAL_MS = 100;

// The checker host's run mode without devices: its options, its records.
// It prints "started", then BURST results per path at once, then one result
// per path every --interval-ms until the stop file exists (or --checks,
// --duration-ms), then "finished" with the results per path, and "exit".
// A result's state is read from $MPCG_TMP/fake-state (default 3, UP) each
// time.
const FAKE_HOST_SCRIPT = String.raw`#!/bin/sh
checks=1000000 interval=200 stop= duration=0
while [ $# -gt 0 ]; do
	case $1 in
	--checks) checks=$2; shift 2 ;;
	--interval-ms) interval=$2; shift 2 ;;
	--stop-file) stop=$2; shift 2 ;;
	--duration-ms) duration=$2; shift 2 ;;
	--count-threads) shift ;;
	run) shift; break ;;
	--*) shift 2 ;;
	*) echo "fake-host: unexpected argument $1" >&2; exit 2 ;;
	esac
done
t0=$(vmstep now)
echo "{\"event\":\"started\",\"paths\":$#,\"threads\":0,\"clock\":$t0.0}"
n=0
while :; do
	now=$(vmstep now)
	if [ -n "$stop" ] && [ -e "$stop" ]; then
		echo "{\"event\":\"stop\",\"t\":$((now - t0))}"
		break
	fi
	[ "$n" -ge "$checks" ] && break
	[ "$duration" -gt 0 ] && [ $((now - t0)) -ge "$duration" ] && break
	state=3
	[ -f "$MPCG_TMP/fake-state" ] && read -r state <"$MPCG_TMP/fake-state"
	case $state in 2) name=down msgid=5 ;; 3) name=up msgid=4 ;; *) name=other msgid=0 ;; esac
	n=$((n + 1))
	for p in "$@"; do
		echo "{\"event\":\"result\",\"path\":\"$p\",\"t\":$(($(vmstep now) - t0)),\"state\":$state,\"stateName\":\"$name\",\"msgid\":$msgid,\"check\":$n,\"ms\":0}"
	done
	[ "$n" -ge ${BURST} ] && usleep $((interval * 1000))
done
counts= sep=
for p in "$@"; do counts="$counts$sep$n" sep=,; done
echo "{\"event\":\"finished\",\"t\":$(($(vmstep now) - t0)),\"threads\":0,\"maxThreads\":0,\"checks\":[$counts]}"
echo "{\"event\":\"exit\",\"t\":$(($(vmstep now) - t0)),\"threads\":0}"
`;

/** Writes VALUE to FILE of the scenario directory, atomically (the host may read it at any time); a required step. */
const setState = (b: ScenarioBuilder, file: string, value: number, label: string): void => {
  b.exec("shell", ["sh", "-c", 'echo "$2" >"$1.new" && mv "$1.new" "$1"', "sh", concat(SCENARIO_TMP, `/${file}`), value], true, { label });
};

interface Plan {
  run: BackgroundHostRun;
}
const plans = new Map<string, Plan>();

/** up, then down, then up: every phase waits for the host's results (the steps of the TUR "offline" scenario). */
function upDownUp(name: string, startMs: number) {
  return scenario(name, (b) => {
    const dev = b.scsiDebug.load({});
    const run = checker(b, "tur", { intervalMs: INTERVAL_MS, host: FAKE_HOST }).start([dev], { label: "tur", startDelayMs: startMs });
    // ×BURST: the results printed at once, and a log that ends so for the next scenario
    run.until("up", { times: BURST });
    setState(b, "fake-state", PATH.down, "down");
    run.until("down");
    setState(b, "fake-state", PATH.up, "up again");
    run.until("up", { times: BURST });
    run.stop();
    plans.set(name, { run });
  });
}

const FIRST = "first run";
const SECOND = "second run: same label and device, the host starts late";

describe("hostTrace() of background host runs in the VM", { timeout: 600_000 }, () => {
  let res: ScenarioResults;

  beforeAll(async () => {
    res = await runScenarios(
      [
        upDownUp(FIRST, 0),
        upDownUp(SECOND, 800),
        scenario("scenario directory", (b) => {
          b.shell('echo "$MPCG_TMP"; ls -A "$MPCG_TMP"', { label: "fresh" });
        }),
      ],
      { label: "checker-vm", inline: [{ dest: FAKE_HOST, data: FAKE_HOST_SCRIPT, mode: 0o755 }] },
    );
  }, 600_000);

  it.each([FIRST, SECOND])("%s: the trace has every check, and the checks each until() step counted", (name) => {
    const r = res.require(name);
    const { run } = plans.get(name)!;
    const trace = hostTrace(r, run); // throws "trace incomplete: …" otherwise
    const dev = run.devices[0]!;
    const checks = trace.checks(dev).map((c) => c.check);
    expect(checks.length, trace.dump()).toBeGreaterThan(BURST);
    expect(checks, "every check number, from 1").toEqual(checks.map((_, i) => i + 1));
    // the phases came in order: each until() waited for this host's results
    expect(trace.sequence(dev), trace.dump()).toBe("up → down → up");
    expect(trace.event("finished")?.checks).toEqual([checks.length]);
    // the results printed at once, before any step could read them, are there
    expect(trace.checks(dev).slice(0, BURST).every((c) => c.state === PATH.up)).toBe(true);
    // each until() step counted results of this run, after the step before it
    for (const label of run.waits!) {
      const step = getStep(r, label);
      expect(step.status, trace.dump()).toBe(0);
      const [u] = step.data as { clock: number; checks: number[] }[];
      expect(u?.clock, label).toBe(trace.clock);
    }
    expect(r.status, trace.dump()).toBe("ok");
  });

  it("the second run's first until() waited for its host (it started late)", () => {
    const r = res.require(SECOND);
    const trace = hostTrace(r, plans.get(SECOND)!.run);
    const until = getStep(r, `tur: until up ×${BURST} #1`);
    const first = trace.checks(plans.get(SECOND)!.run.devices[0]!)[0]!;
    expect(until.endT!, trace.dump()).toBeGreaterThan(first.endT);
    expect(first.endT - getStep(r, "tur").beginT!, "the host's late start").toBeGreaterThanOrEqual(800);
  });

  it("each scenario gets a directory of its own, empty at its start", () => {
    const r = res.require("scenario directory");
    const out = getStep(r, "fresh").output;
    expect(out, JSON.stringify(out)).toEqual(["/tmp/mpcg-scenario-3"]);
  });
});
