// Generated checkers against real kernel SCSI devices in the test VM: the
// checker host and plugins built for the VM image, scenario steps that run
// the host on devices (in the foreground, or in the background while later
// steps change the devices), the parsed host records, the spec's
// predictions for a device's answers, and the scenario table of a run.
//
//   const tur = checker(b, "tur", { timeoutS: 1, intervalMs: 200 });
//   const run = tur.start([dev], { label: "tur" });     // in the background
//   run.until("up");                                     // 2 in a row
//   b.setDeviceState(dev, "offline");
//   run.until("down");
//   run.stop();
//   ...
//   const trace = hostTrace(results.require("offline"), run);
//   trace.sequence(dev)   // "up → down"
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { initialContext, interpretCheck, type ContextValues, type SimAnswer } from "../../generator/interp/interpret.ts";
import { ABI_PROFILES } from "../../generator/abi/profiles.ts";
import type { CheckerModel } from "../../generator/model/types.ts";
import { buildNativeSet, type GeneratedFiles, type NativeSet } from "../support/build.ts";
import type { Compiler } from "../support/cc.ts";
import type { ExtraFile } from "./initramfs.ts";
import {
  concat,
  formatScenario,
  getStep,
  SCENARIO_TMP,
  type Arg,
  type BackgroundStep,
  type DeviceRef,
  type ScenarioBuilder,
  type ScenarioResult,
  type ScenarioResults,
  type StepResult,
} from "./scenario.ts";

// ------------------------------------------------------------ ABI values

/** Path states of the 0.15 ABI (checkers.h). */
export const PATH = {
  wild: 0,
  unchecked: 1,
  down: 2,
  up: 3,
  shaky: 4,
  ghost: 5,
  pending: 6,
  timeout: 7,
  removed: 8,
  delayed: 9,
  disconnected: 10,
} as const;
export type PathStateName = keyof typeof PATH;

const STATE_NAMES = Object.fromEntries(Object.entries(PATH).map(([k, v]) => [v, k])) as Record<number, PathStateName>;

/** Generic message IDs of the 0.15 ABI (checkers.h); checker messages start at 100. */
export const MSGID = {
  none: 0,
  disabled: 1,
  noFd: 2,
  invalid: 3,
  up: 4,
  down: 5,
  ghost: 6,
  unsupported: 7,
  disconnected: 8,
  timeout: 9,
  running: 10,
} as const;
export const CHECKER_FIRST_MSGID = 100;

const GENERIC_MSG_NAMES = Object.fromEntries(Object.entries(MSGID).map(([k, v]) => [v, k])) as Record<number, string>;

/** A path state with its message, e.g. "up", "pending (transitioning)". */
export interface Outcome {
  state: number;
  msgid: number;
}

/** The text of an outcome; the message only when it is not the state's own ("pending (transitioning)"). */
export function outcomeText(o: Outcome, model?: CheckerModel): string {
  const state = STATE_NAMES[o.state] ?? `state ${o.state}`;
  let msg = GENERIC_MSG_NAMES[o.msgid];
  if (o.msgid >= CHECKER_FIRST_MSGID) msg = model?.messages.find((m) => m.id === o.msgid)?.key ?? `msgid ${o.msgid}`;
  return msg === state ? state : `${state} (${msg ?? `msgid ${o.msgid}`})`;
}

const sameOutcome = (a: Outcome, b: Outcome): boolean => a.state === b.state && a.msgid === b.msgid;

// ------------------------------------------------------------ build

/** Where the image holds the checker host and the plugins. */
export const VM_CHECKER_HOST = "/opt/mpcg/checker-host";
export const vmPluginPath = (name: string): string => `/lib/multipath/libcheck${name}.so`;

export interface CheckerVmBuild {
  compiler: Compiler;
  set: NativeSet;
  /** for runScenarios({ files }): the host, the plugins; their libraries come with the ldd closures */
  files: ExtraFile[];
}

/**
 * Builds the checker host and the plugins with one compiler, as for the
 * host tests (buildNativeSet): dynamically linked, libmpathutil found
 * through the rpath into build/native/. The VM image gets the host at
 * VM_CHECKER_HOST and each plugin at /lib/multipath/libcheck<name>.so; the
 * image builder adds their ldd closures (libmpathutil.so at its build path,
 * so the rpath resolves in the VM too, libgcc_s for pthread_cancel, libc,
 * the loader).
 */
export function buildCheckerVm(compiler: Compiler, checkers: readonly string[], gen?: GeneratedFiles): CheckerVmBuild {
  const set = buildNativeSet({ compiler }, gen);
  return {
    compiler,
    set,
    files: [
      { src: set.host, dest: VM_CHECKER_HOST, mode: 0o755 },
      ...checkers.map((name) => ({ src: set.plugin(name), dest: vmPluginPath(name), mode: 0o755 })),
    ],
  };
}

// ------------------------------------------------------------ scenario steps

export interface CheckerOptions {
  /** the checker timeout in s (c->timeout; also the SG_IO timeout); default 30 */
  timeoutS?: number;
  /** ms between the starts of two checks of a path (multipathd: the checker interval); default 200 */
  intervalMs?: number;
  /** ms between two polls of a pending check (multipathd's tick); default 1 */
  tickMs?: number;
  /** report the thread count ("threads" records, and with each result) */
  countThreads?: boolean;
  /** ms to wait for the runner threads to end before the host's exit record; default 0 */
  drainMs?: number;
  /** the host program in the VM (default VM_CHECKER_HOST); tests of the harness give a stand-in */
  host?: string;
  /** the device node the host opens: the sg node (default) or the block device (directio reads it) */
  node?: "sg" | "sd";
}

export interface CheckerRunOptions extends CheckerOptions {
  /** the step label, unique in the scenario (the name for hostTrace) */
  label: string;
  /** checks per path (a foreground run ends after them); default 3, or unbounded in the background */
  checks?: number;
  /** the host ends after this many ms; default none in the foreground, 60000 in the background */
  durationMs?: number;
  /** the step's timeout in ms (default durationMs + drainMs + 30 s, or 120 s) */
  stepTimeoutMs?: number;
  /**
   * ms the step waits before it starts the host (tests of the harness: a
   * background step that a loaded VM schedules late, after the steps that
   * follow it have begun); default 0
   */
  startDelayMs?: number;
}

/** A run of the checker host in a scenario: its label and the devices it checks, in order. */
export interface HostRun {
  readonly label: string;
  readonly checker: string;
  readonly devices: readonly DeviceRef[];
  /** the node the host opened (default sg) */
  readonly node?: "sg" | "sd";
  /**
   * The labels of its until() steps: hostTrace() checks that the results
   * each of them waited for are results of this run, and in the trace.
   */
  readonly waits?: readonly string[];
}

export interface UntilOptions {
  /** how many results in a row (default 2) */
  times?: number;
  /** the message ID too (e.g. 100 for transitioning) */
  msgid?: number;
  /** only these devices (default: all of the run) */
  devices?: readonly DeviceRef[];
  /** default 20000 */
  timeoutMs?: number;
  label?: string;
  /** count only results recorded after the last mark() of the run */
  sinceMark?: boolean;
}

/** The checker host running in the background: steps that wait for its results, and stop it. */
export interface BackgroundHostRun extends HostRun {
  readonly step: BackgroundStep;
  /**
   * A required step that waits until the last `times` results of every
   * device have this state. If that does not happen within its timeout
   * (or the host ends first), the host is stopped and the scenario ends
   * with an error. "any": results of any state.
   */
  until(state: PathStateName | "any", opts?: UntilOptions): void;
  /**
   * A step that marks the host's record log as it is now: until() with
   * `sinceMark` then counts only results recorded after it (the results of
   * checks that ended after the mark).
   */
  mark(label?: string): void;
  /** Stops the host (its loop ends, the checkers are freed, threads drained) and waits for it. */
  stop(): void;
}

// Waits until every given path's last WANT results have state ST (and
// msgid MSG, unless -1) in the host's record log. Arguments:
// LOG STOP ST MSG WANT TIMEOUT_MS PATH...
// With MARK set in the environment (a file holding a line count), the
// first lines of the log up to that count are skipped.
// Only complete lines count (the host may be writing the last one). On
// success it prints one JSON line per path: the host run it read (the clock
// of its "started" record) and the numbers of the checks it counted, so
// that hostTrace() can tell that they are in the trace.
const UNTIL_SCRIPT = String.raw`log=$1 stop=$2 st=$3 msg=$4 want=$5 tmo=$6
shift 6
skip=0
if [ -n "$MARK" ] && [ -f "$MARK" ]; then skip=$(cat "$MARK"); fi
end=$(($(vmstep now) + tmo))
while :; do
	if [ -f "$log" ] && awk -v st="$st" -v msg="$msg" -v want="$want" -v skip="$skip" -v paths="$*" '
		BEGIN { n = split(paths, p, " "); for (i = 1; i <= n; i++) run[p[i]] = 0; clock = "null" }
		# the last line may be one the host is still writing
		!/[}]$/ { next }
		index($0, "{\"event\":\"started\",") == 1 && match($0, /"clock":[0-9.]+/) { clock = substr($0, RSTART + 8, RLENGTH - 8) }
		NR <= skip { next }
		index($0, "{\"event\":\"result\",") == 1 {
			if (!match($0, /"path":"[^"]*"/)) next
			path = substr($0, RSTART + 8, RLENGTH - 9)
			if (!(path in run)) next
			ok = st < 0 || index($0, "\"state\":" st ",") > 0
			if (ok && msg >= 0) ok = index($0, "\"msgid\":" msg ",") > 0
			check = match($0, /"check":[0-9]+/) ? substr($0, RSTART + 8, RLENGTH - 8) : -1
			run[path] = ok ? run[path] + 1 : 0
			seen[path] = ok ? seen[path] "," check : ""
		}
		END {
			for (i = 1; i <= n; i++) if (run[p[i]] < want) exit 1
			for (i = 1; i <= n; i++) printf "{\"event\":\"until\",\"clock\":%s,\"path\":\"%s\",\"state\":%d,\"msgid\":%d,\"checks\":[%s]}\n", clock, p[i], st, msg, substr(seen[p[i]], 2)
			exit 0
		}' "$log"; then
		echo "state $st (msgid $msg) $want times in a row on: $*"
		exit 0
	fi
	if [ -f "$log" ] && grep -q '"event":"finished"' "$log"; then
		echo "the checker host ended before state $st (msgid $msg) came $want times in a row on: $*"
		exit 1
	fi
	if [ "$(vmstep now)" -ge "$end" ]; then
		echo "no state $st (msgid $msg) $want times in a row within $tmo ms on: $*; stopping the host"
		tail -n 8 "$log" 2>&1
		: >"$stop"
		exit 1
	fi
	usleep 100000
done`;

// Writes the line count of the host's record log LOG to MARK.
// Arguments: LOG MARK
const MARK_SCRIPT = String.raw`n=$(wc -l <"$1" 2>/dev/null) || n=0
echo "$n" >"$2"`;

// Runs the host with its records also written to LOG (for until()), after
// DELAY_MS. Arguments: LOG DELAY_MS HOST ARGS... LOG is a file of the
// scenario's own directory (SCENARIO_TMP), named after the step: no other
// run ever wrote it, so until() and mark() steps, which may start before
// this one, read nothing but this run's records.
const HOST_SCRIPT = String.raw`set -o pipefail
log=$1 delay=$2
shift 2
[ "$delay" -gt 0 ] && usleep $((delay * 1000))
"$@" | tee "$log"`;

const fileSafe = (s: string): string => s.replace(/[^A-Za-z0-9_.-]+/g, "_");

/** The checker host with one plugin, in one scenario. */
export class CheckerSteps {
  constructor(
    readonly b: ScenarioBuilder,
    readonly name: string,
    readonly defaults: CheckerOptions = {},
  ) {}

  private argv(devices: readonly DeviceRef[], o: CheckerRunOptions, background: boolean): { argv: Arg[]; log: Arg; stop: Arg; mark: Arg; timeoutMs: number } {
    if (devices.length === 0) throw new Error("checker host: no devices");
    const opt = { ...this.defaults, ...o };
    // the step's index: unique in the scenario, and the directory is the scenario's own
    const base = `/host-step${this.b.steps.length}-${fileSafe(o.label)}`;
    const log = concat(SCENARIO_TMP, `${base}.jsonl`);
    const stop = concat(SCENARIO_TMP, `${base}.stop`);
    const mark = concat(SCENARIO_TMP, `${base}.mark`);
    const duration = opt.durationMs ?? (background ? 60_000 : undefined);
    const checks = opt.checks ?? (background ? 1_000_000 : 3);
    const host: Arg[] = [
      opt.host ?? VM_CHECKER_HOST,
      "--checker",
      vmPluginPath(this.name),
      "--timeout",
      opt.timeoutS ?? 30,
      "--checks",
      checks,
      "--interval-ms",
      opt.intervalMs ?? 200,
      "--tick-ms",
      opt.tickMs ?? 1,
      ...(duration !== undefined ? ["--duration-ms", duration] : []),
      ...(opt.countThreads ? ["--count-threads"] : []),
      ...(opt.drainMs ? ["--drain-ms", opt.drainMs] : []),
      "--stop-file",
      stop,
      "run",
      ...devices.map((d) => d[opt.node ?? "sg"]),
    ];
    const timeoutMs = opt.stepTimeoutMs ?? (duration !== undefined ? duration + (opt.drainMs ?? 0) + 30_000 : 120_000);
    const delay = Math.max(0, Math.round(o.startDelayMs ?? 0));
    return { argv: ["sh", "-c", HOST_SCRIPT, "sh", log, delay, ...host], log, stop, mark, timeoutMs: timeoutMs + delay };
  }

  /** Runs the host in the foreground: `checks` checks per device, then it ends. */
  check(devices: readonly DeviceRef[], o: CheckerRunOptions): HostRun {
    const { argv, timeoutMs } = this.argv(devices, o, false);
    this.b.run(argv, { json: true, label: o.label, timeoutMs });
    return { label: o.label, checker: this.name, devices, node: o.node ?? this.defaults.node };
  }

  /** Starts the host in the background; until() and stop() drive it. */
  start(devices: readonly DeviceRef[], o: CheckerRunOptions): BackgroundHostRun {
    const { argv, log, stop, mark, timeoutMs } = this.argv(devices, o, true);
    const b = this.b;
    const step = b.background(argv, { json: true, label: o.label, timeoutMs });
    const labels: string[] = [];
    let waits = 0;
    let marks = 0;
    let stopped = false;
    const node = o.node ?? this.defaults.node ?? "sg";
    return {
      label: o.label,
      checker: this.name,
      devices,
      node,
      waits: labels,
      step,
      until: (state: PathStateName | "any", u: UntilOptions = {}) => {
        if (stopped) throw new Error(`${o.label}: until() after stop()`);
        const devs = u.devices ?? devices;
        const times = u.times ?? 2;
        const what = `${state}${u.msgid !== undefined ? ` (msgid ${u.msgid})` : ""}`;
        const st = b.exec(
          "checker-until",
          [
            ...(u.sinceMark ? ["env", concat("MARK=", mark)] : []),
            "sh",
            "-c",
            UNTIL_SCRIPT,
            "sh",
            log,
            stop,
            state === "any" ? -1 : PATH[state],
            u.msgid ?? -1,
            times,
            u.timeoutMs ?? 20_000,
            ...devs.map((d) => d[node]),
          ],
          true,
          {
            label: u.label ?? `${o.label}: until ${what} ×${times} #${++waits}`,
            timeoutMs: (u.timeoutMs ?? 20_000) + 30_000,
            json: true,
          },
        );
        labels.push(st.label);
      },
      mark: (label?: string) => {
        if (stopped) throw new Error(`${o.label}: mark() after stop()`);
        b.exec("checker-mark", ["sh", "-c", MARK_SCRIPT, "sh", log, mark], true, { label: label ?? `${o.label}: mark #${++marks}` });
      },
      stop: () => {
        if (stopped) throw new Error(`${o.label}: stopped twice`);
        stopped = true;
        b.exec("checker-stop", ["touch", stop], true, { label: `${o.label}: stop` });
        b.join(step, { label: `${o.label}: join` });
      },
    };
  }
}

/** The checker host with plugin `name` in this scenario. */
export function checker(b: ScenarioBuilder, name: string, defaults: CheckerOptions = {}): CheckerSteps {
  return new CheckerSteps(b, name, defaults);
}

// ------------------------------------------------------------ host records

/** One JSON line of the checker host (run mode). */
export interface HostRecord {
  event: string;
  path?: string;
  t?: number;
  state?: number;
  stateName?: string;
  msgid?: number;
  checkerMessage?: string;
  /** a result's check number: 1, 2, … per path */
  check?: number;
  /** "finished": the results printed per path, in device order */
  checks?: number[];
  ms?: number;
  threads?: number;
  count?: number;
  maxThreads?: number;
  clock?: number;
  paths?: number;
  errno?: number;
  message?: string;
}

/** What an until() step counted: the host run (its start clock), a path, the check numbers. */
interface UntilRecord {
  event: "until";
  clock: number | null;
  path: string;
  state: number;
  msgid: number;
  checks: number[];
}

/** One completed check. Times are the VM's CLOCK_MONOTONIC in ms, like step records. */
export interface HostCheck extends Outcome {
  path: string;
  check: number;
  stateName: string;
  /** the check's duration */
  ms: number;
  startT: number;
  endT: number;
  /** it went PENDING first (a runner was started: a "started" record) */
  wentPending: boolean;
  /** threads of the host when it was reported (with countThreads) */
  threads?: number;
  /** the plugin's text of a checker message (msgid ≥ 100), as the host printed it */
  checkerMessage?: string;
}

/** A run of equal outcomes in a path's sequence of checks. */
export interface OutcomeRun extends Outcome {
  count: number;
  first: HostCheck;
  last: HostCheck;
}

/** Compresses checks into runs of equal outcomes. */
export function outcomeRuns(checks: readonly HostCheck[]): OutcomeRun[] {
  const runs: OutcomeRun[] = [];
  for (const c of checks) {
    const last = runs.at(-1);
    if (last && sameOutcome(last, c)) {
      last.count++;
      last.last = c;
    } else runs.push({ state: c.state, msgid: c.msgid, count: 1, first: c, last: c });
  }
  return runs;
}

/** The records of one checker host run of a scenario, by device. */
export class HostTrace {
  readonly step: StepResult;
  readonly records: HostRecord[];
  /** CLOCK_MONOTONIC of the host's start (ms) */
  readonly clock: number;
  private readonly paths: Map<string, string>;

  constructor(
    readonly result: ScenarioResult,
    readonly run: HostRun,
  ) {
    this.step = getStep(result, run.label);
    this.records = this.step.data as HostRecord[];
    const start = this.records.find((r) => r.event === "started" && r.path === undefined);
    if (!start || typeof start.clock !== "number") {
      throw new Error(`${run.label}: the checker host did not start\n${formatScenario(result)}`);
    }
    this.clock = start.clock;
    this.paths = new Map(
      run.devices.map((d) => {
        const info = result.devices[d.name];
        if (!info) throw new Error(`${run.label}: device ${d.name} was not found\n${formatScenario(result)}`);
        return [d.name, info[run.node ?? "sg"]];
      }),
    );
    this.verifyComplete();
  }

  /**
   * Throws "trace incomplete: check N missing" unless the trace holds every
   * result the host printed: each path's checks numbered 1, 2, … without a
   * gap, as many as the host's "finished" record counts, and every check an
   * until() step of the run counted, with the state it waited for, in a log
   * of this very run (the same "started" clock).
   */
  private verifyComplete(): void {
    const fail = (msg: string): never => {
      throw new Error(`${this.run.label}: trace incomplete: ${msg}\n${formatScenario(this.result)}`);
    };
    const results = new Map<string, Map<number, HostRecord>>();
    for (const r of this.records) {
      if (r.event !== "result" || r.path === undefined) continue;
      const seen = results.get(r.path) ?? new Map<number, HostRecord>();
      results.set(r.path, seen);
      const want = seen.size + 1;
      if (r.check !== want) {
        fail(
          r.check === undefined || r.check < want
            ? `${r.path}: a result numbered ${String(r.check)} after check ${want - 1}`
            : `check ${want} missing (${r.path}: check ${r.check} follows ${want === 1 ? "the start" : `check ${want - 1}`})`,
        );
      }
      seen.set(want, r);
    }
    const finished = this.event("finished");
    if (finished?.checks) {
      this.run.devices.forEach((d, i) => {
        const path = this.path(d);
        const have = results.get(path)?.size ?? 0;
        const printed = finished.checks![i] ?? 0;
        if (have < printed) fail(`check ${have + 1} missing (${path}: the host printed ${printed} results, the trace has ${have})`);
      });
    }
    for (const label of this.run.waits ?? []) {
      const step = getStep(this.result, label);
      if (!step.ran || step.status !== 0) continue; // a failed until() fails its scenario
      const counted = (step.data as UntilRecord[]).filter((u) => u.event === "until");
      if (counted.length === 0) fail(`"${label}" passed without saying which checks it counted`);
      for (const u of counted) {
        if (u.clock !== this.clock) {
          fail(
            `"${label}" counted checks ${u.checks.join(", ")} of ${u.path} in the log of another host run ` +
              `(started at ${String(u.clock)} ms; this run started at ${this.clock} ms)`,
          );
        }
        for (const n of u.checks) {
          const r = results.get(u.path)?.get(n);
          if (!r) fail(`check ${n} missing (${u.path}: "${label}" counted it)`);
          if ((u.state >= 0 && r!.state !== u.state) || (u.msgid >= 0 && r!.msgid !== u.msgid)) {
            fail(`${u.path} check ${n}: "${label}" counted state ${u.state} (msgid ${u.msgid}), the trace has state ${r!.state} (msgid ${r!.msgid})`);
          }
        }
      }
    }
  }

  /** The device node of a device, as the host names the path. */
  path(dev: DeviceRef): string {
    const p = this.paths.get(dev.name);
    if (!p) throw new Error(`${this.run.label} does not check ${dev.name}`);
    return p;
  }

  /** The completed checks of a device, in order. */
  checks(dev: DeviceRef): HostCheck[] {
    const path = this.path(dev);
    const pending = new Set<number>();
    const out: HostCheck[] = [];
    let n = 0;
    for (const r of this.records) {
      if (r.path !== path) continue;
      // a "started" record belongs to the next check of the path
      if (r.event === "started") pending.add(n + 1);
      if (r.event !== "result") continue;
      n = r.check!;
      const endT = this.clock + r.t!;
      out.push({
        path,
        check: r.check!,
        state: r.state!,
        stateName: r.stateName!,
        msgid: r.msgid!,
        ms: r.ms!,
        startT: endT - r.ms!,
        endT,
        wentPending: pending.has(r.check!),
        ...(r.threads !== undefined ? { threads: r.threads } : {}),
        ...(r.checkerMessage !== undefined ? { checkerMessage: r.checkerMessage } : {}),
      });
    }
    return out;
  }

  runs(dev: DeviceRef): OutcomeRun[] {
    return outcomeRuns(this.checks(dev));
  }

  /** The outcomes in order, repeats folded: "up → down → up". */
  sequence(dev: DeviceRef, model?: CheckerModel): string {
    return this.runs(dev)
      .map((r) => outcomeText(r, model))
      .join(" → ");
  }

  /** The outcomes with counts: "up×3 → down×5 → up×2". */
  describe(dev: DeviceRef, model?: CheckerModel): string {
    return this.runs(dev)
      .map((r) => `${outcomeText(r, model)}×${r.count}`)
      .join(" → ");
  }

  /** All devices: one line when they agree ("4 paths: up×2–3 → timeout×20–22 → up×2"). */
  describeAll(model?: CheckerModel): string {
    const devs = this.run.devices;
    const seqs = devs.map((d) => this.sequence(d, model));
    if (devs.length === 1) return this.describe(devs[0]!, model);
    if (seqs.some((s) => s !== seqs[0])) return devs.map((d) => `${this.path(d)}: ${this.describe(d, model)}`).join("; ");
    const runs = devs.map((d) => this.runs(d));
    const parts = runs[0]!.map((r, i) => {
      const counts = runs.map((rs) => rs[i]!.count);
      const lo = Math.min(...counts);
      const hi = Math.max(...counts);
      return `${outcomeText(r, model)}×${lo === hi ? lo : `${lo}–${hi}`}`;
    });
    return `each of ${devs.length} paths: ${parts.join(" → ")}`;
  }

  /** The first record of an event ("finished", "exit", "stop"). */
  event(name: string): HostRecord | undefined {
    return this.records.find((r) => r.event === name && r.path === undefined);
  }

  /** The highest thread count the host saw (with countThreads). */
  get peakThreads(): number {
    return Math.max(0, ...this.records.filter((r) => r.event === "threads").map((r) => r.count ?? 0));
  }

  /** The host's exit status (the step's), null if it never ended. */
  get status(): number | null {
    return this.step.status;
  }

  /** The scenario dump, for assertion messages. */
  dump(): string {
    return formatScenario(this.result);
  }
}

export function hostTrace(result: ScenarioResult, run: HostRun): HostTrace {
  return new HostTrace(result, run);
}

// ------------------------------------------------------------ predictions

/** Fixed-format sense data (0x70), as scsi_debug and LIO return it. */
export function fixedSense(key: number, asc: number, ascq: number): number[] {
  const sb = new Array<number>(18).fill(0);
  sb[0] = 0x70;
  sb[2] = key;
  sb[7] = 10;
  sb[12] = asc;
  sb[13] = ascq;
  return sb;
}

/** SG_IO answers of real devices, as vm.md measured them. */
export const sgAnswer = {
  good: (): SimAnswer => ({ status: 0, info: 0 }),
  /** CHECK CONDITION with DRIVER_SENSE and fixed sense data */
  checkCondition: (key: number, asc: number, ascq: number): SimAnswer => ({
    status: 0x02,
    driverStatus: 0x08,
    info: 1,
    sense: fixedSense(key, asc, ascq),
  }),
  unitAttention: (asc: number, ascq: number): SimAnswer => sgAnswer.checkCondition(0x6, asc, ascq),
  notReady: (asc: number, ascq: number): SimAnswer => sgAnswer.checkCondition(0x2, asc, ascq),
  illegalRequest: (asc: number, ascq: number): SimAnswer => sgAnswer.checkCondition(0x5, asc, ascq),
  /** the ioctl fails (ENXIO offline, ENODEV deleted) */
  ioctlError: (errno: number): SimAnswer => ({ errno }),
  hostStatus: (host: number): SimAnswer => ({ status: 0, hostStatus: host, info: 1 }),
};

/** What a device answers to every command of a check; the last answer repeats. */
export interface DeviceBehaviour {
  /** e.g. "UA 06/29/00, then GOOD" */
  text: string;
  answers: readonly SimAnswer[];
}

/** The expected outcome of a phase: predicted by the spec, or by the framework (the checker timeout). */
export interface Prediction extends Outcome {
  /** what the device does, and who predicts the outcome */
  because: string;
}

/** The spec's outcome (through the interpreter) for a check against a device behaving so. */
export function predict(model: CheckerModel, device: DeviceBehaviour, timeoutS = 30): Prediction {
  if (device.answers.length === 0) throw new Error("a device behaviour needs answers");
  const r = interpretCheck(model, (_cmd, i) => device.answers[Math.min(i, device.answers.length - 1)]!, undefined, timeoutS);
  return { state: r.pathState, msgid: r.msgid, because: `${device.text} → spec: ${outcomeText({ state: r.pathState, msgid: r.msgid }, model)}` };
}

/** The async framework's outcome when the checker's command does not return within the checker timeout. */
export function predictCheckerTimeout(what: string): Prediction {
  return { state: PATH.timeout, msgid: MSGID.timeout, because: `${what} → framework: timeout` };
}

/**
 * A device whose answer depends on the command (INQUIRY VPD 0x83 and
 * REPORT TARGET PORT GROUPS get different data), with an optional unit
 * attention that the first command able to report it gets (SPC: INQUIRY,
 * REPORT LUNS and REQUEST SENSE never report one).
 */
export interface CommandDevice {
  /** e.g. "UA 06/2A/06, then RTPG: group 1 standby" */
  text: string;
  answer(cdb: readonly number[]): SimAnswer;
  unitAttention?: SimAnswer;
}

/** Opcodes that never report a pending unit attention (SPC-4 5.14). */
const NO_UA_OPCODES = new Set([0x12 /* INQUIRY */, 0xa0 /* REPORT LUNS */, 0x03 /* REQUEST SENSE */]);

/** What the spec (the interpreter) says one check reports, and the per-path context it leaves. */
export interface CheckPrediction extends Outcome {
  /** the context after the check (the input of the next check of the path) */
  context: ContextValues;
  /** the CDBs the check sends, in hex */
  commands: string[];
}

/**
 * The spec's outcomes for `checks` checks in a row of one path against a
 * device, the per-path context carried from check to check (starting from
 * `context`, default: after init). The unit attention, if any, goes to the
 * first command that can report it, in whichever check that is.
 */
export function predictChecks(
  model: CheckerModel,
  device: CommandDevice,
  opts: { context?: ContextValues; checks?: number; timeoutS?: number } = {},
): CheckPrediction[] {
  let ctx = opts.context ?? initialContext(model);
  let ua = device.unitAttention;
  const out: CheckPrediction[] = [];
  for (let i = 0; i < (opts.checks ?? 2); i++) {
    const r = interpretCheck(
      model,
      (cmd) => {
        if (ua && !NO_UA_OPCODES.has(cmd.cdb[0]!)) {
          const a = ua;
          ua = undefined;
          return a;
        }
        return device.answer(cmd.cdb);
      },
      ctx,
      opts.timeoutS ?? 30,
    );
    ctx = r.context;
    out.push({
      state: r.pathState,
      msgid: r.msgid,
      context: { ...r.context },
      commands: r.commands.map((c) => c.cdb.map((b) => b.toString(16).padStart(2, "0")).join("")),
    });
  }
  return out;
}

/** The text of a message as multipathd shows it: "<checker> checker<text>" (checker_message()). */
export function messageText(model: CheckerModel, msgid: number): string {
  const own = model.messages.find((m) => m.id === msgid);
  const generic = GENERIC_MSG_TEXTS[msgid];
  const text = msgid >= CHECKER_FIRST_MSGID ? own?.text : generic;
  return text === undefined ? `(msgid ${msgid})` : text === "" ? "" : `${model.name} checker${text}`;
}

/** Generic message texts of the 0.15 ABI, by ID (generator/abi/profiles.ts). */
const GENERIC_MSG_TEXTS: Record<number, string> = Object.fromEntries(
  ABI_PROFILES["0.15"].genericMessages.map(([, text], i) => [i, text]),
);

/** The predicted sequence, repeats folded: "up → down → up". */
export function predictedSequence(phases: readonly Prediction[], model?: CheckerModel): string {
  const folded: Prediction[] = [];
  for (const p of phases) if (!folded.length || !sameOutcome(folded.at(-1)!, p)) folded.push(p);
  return folded.map((p) => outcomeText(p, model)).join(" → ");
}

// ------------------------------------------------------------ the table

export interface TableRow {
  scenario: string;
  expected: string;
  /** observed sequences, by column (e.g. by compiler) */
  observed: Record<string, string>;
  /** scenario time per column, ms */
  elapsedMs: Record<string, number | null>;
}

export interface VmTiming {
  name: string;
  results: ScenarioResults;
  /** ms from the start of preparation (build, image) to the results */
  wallMs: number;
}

const secs = (ms: number | null | undefined): string => (ms === null || ms === undefined ? "–" : `${(ms / 1000).toFixed(1)} s`);
const cell = (s: string): string => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

/** The scenario table and the timings of the VMs, as markdown. */
export function scenarioTable(title: string, rows: readonly TableRow[], vms: readonly VmTiming[], notes: readonly string[] = []): string {
  const cols = vms.map((v) => v.name);
  const out = [`# ${title}`, ""];
  out.push(`| scenario | expected (spec / framework) | ${cols.map((c) => `observed (${c})`).join(" | ")} | ${cols.map((c) => `time (${c})`).join(" | ")} |`);
  out.push(`|---|---|${cols.map(() => "---|").join("")}${cols.map(() => "---:|").join("")}`);
  for (const r of rows) {
    out.push(
      `| ${cell(r.scenario)} | ${cell(r.expected)} | ${cols.map((c) => cell(r.observed[c] ?? "–")).join(" | ")} | ${cols
        .map((c) => secs(r.elapsedMs[c]))
        .join(" | ")} |`,
    );
  }
  out.push("", "| VM | accelerator | kernel | boot | scenarios per boot | VM run | with build and image |", "|---|---|---|---:|---:|---:|---:|");
  for (const v of vms) {
    const vm = v.results.vm;
    const n = vm.records.filter((r) => r.event === "scenario-end").length;
    out.push(
      `| ${v.name} | ${vm.accel.toUpperCase()}${vm.kvmFallback ? " (KVM fell back)" : ""} | ${vm.kernelVersion} | ${secs(vm.bootMs)} | ${n} | ${secs(vm.totalMs)} | ${secs(v.wallMs)} |`,
    );
  }
  if (notes.length) out.push("", ...notes.map((n) => `- ${n}`));
  return out.join("\n") + "\n";
}

/** Prints the table to stderr and writes it to `file`. */
export function publishTable(file: string, markdown: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, markdown);
  process.stderr.write(`\n${markdown}\n(written to ${file})\n`);
}
