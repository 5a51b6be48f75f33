// Drives the checker host in simulated-SG_IO mode: writes a case file
// (answers + checks), runs the host against a plugin linked with libsgsim,
// and returns the parsed JSON results.
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { CommandSent, SimAnswer } from "../../generator/interp/interpret.ts";
import { BUILD_DIR } from "../support/cc.ts";
import type { NativeSet } from "../support/build.ts";

export interface SimCase {
	id: string;
	/** Checks on the same path share the checker's context (default: one path per case). */
	path?: string;
	/** The map the path belongs to: the paths of one map share its context (default: a map of its own). */
	map?: string;
	/** The answers the check consumes, in order. */
	answers: SimAnswer[];
}

export interface HostCheck {
	event: "check";
	id: string;
	path: string;
	state: number;
	stateName: string;
	msgid: number;
	checkerMessage?: string;
	/** The path's checker context after the check, as the framework keeps it (hex of its bytes). */
	ctx?: string;
	/** The map context after the check (union checker_mpcontext's long_val; -1: not set). */
	mpc: number;
	commands: { cdb: string; dir: number; len: number; timeoutMs: number; mxSbLen: number; out?: string; via?: string; offset?: number }[];
	unanswered: number;
	leftover: number;
}

const hex = (bytes: readonly number[]) => bytes.map((b) => (b & 0xff).toString(16).padStart(2, "0")).join("");

/** One "answer" line of the case file. */
export function answerLine(a: SimAnswer): string {
	const f: string[] = [];
	if (a.errno) f.push(`errno=${a.errno}`);
	if (a.status !== undefined) f.push(`status=${a.status}`);
	if (a.hostStatus !== undefined) f.push(`host=${a.hostStatus}`);
	if (a.driverStatus !== undefined) f.push(`driver=${a.driverStatus}`);
	if (a.info !== undefined) f.push(`info=${a.info}`);
	if (a.resid !== undefined) f.push(`resid=${a.resid}`);
	const sense = a.sense ?? [];
	f.push(`sbwr=${a.sbLenWr ?? sense.length}`);
	if (sense.length > 0) f.push(`sense=${hex(sense)}`);
	if (a.data && a.data.length > 0) f.push(`data=${hex(a.data)}`);
	return `answer ${f.join(" ")}`;
}

/** The interpreter's commands in the host's notation. */
export function commandsAsHost(cmds: CommandSent[]): { cdb: string; dir: number; len: number; timeoutMs: number; out?: string; via?: string; offset?: number }[] {
	// the host records the first SGSIM_MAX_OUT (256) bytes a command sends
	return cmds.map((c) => ({
		cdb: hex(c.cdb),
		dir: c.direction,
		len: c.length,
		timeoutMs: c.timeoutMs,
		...(c.transport ? { via: c.transport } : {}),
		...(c.transport === "directRead" ? { offset: c.offset ?? 0 } : {}),
		...(c.dataOut && c.dataOut.length > 0 ? { out: hex(c.dataOut.slice(0, 256)) } : {}),
	}));
}

export interface SimRunOptions {
	/** Run checks inline instead of in runner threads (multipathd's sync mode). */
	sync?: boolean;
	/** The checker timeout in seconds. */
	timeout?: number;
	env?: NodeJS.ProcessEnv;
	/** Run the host under this wrapper (e.g. valgrind). */
	wrapper?: string[];
	/** The checker plugin to load instead of set.simPlugin(checker) (a fixture spec's). */
	plugin?: string;
}

let seq = 0;

/** Runs the cases in one host process; one result per case, in order. */
export function runSimCases(set: NativeSet, checker: string, cases: SimCase[], opts: SimRunOptions = {}): HostCheck[] {
	const dir = join(BUILD_DIR, "sim");
	mkdirSync(dir, { recursive: true });
	const file = join(dir, `cases-${process.pid}-${seq++}.txt`);
	const lines: string[] = [];
	for (const c of cases) {
		lines.push(`path ${c.path ?? c.id}`);
		if (c.map !== undefined) lines.push(`map ${c.map}`);
		for (const a of c.answers) lines.push(answerLine(a));
		lines.push(`check ${c.id}`);
	}
	writeFileSync(file, `${lines.join("\n")}\n`);
	const args = [
		"--checker",
		opts.plugin ?? set.simPlugin(checker),
		...(opts.sync ? ["--sync"] : []),
		"--timeout",
		String(opts.timeout ?? 30),
		"sim",
		file,
	];
	const [cmd, ...pre] = opts.wrapper ?? [];
	const res = spawnSync(cmd ?? set.host, cmd ? [...pre, set.host, ...args] : args, {
		encoding: "utf8",
		maxBuffer: 1 << 30,
		env: { ...process.env, ...opts.env },
	});
	if (res.error) throw res.error;
	const records = res.stdout
		.split("\n")
		.filter((l) => l.startsWith("{"))
		.map((l) => JSON.parse(l) as HostCheck | { event: "error"; message: string });
	const error = records.find((r) => r.event === "error");
	if (error || res.status !== 0) {
		throw new Error(
			`checker host failed (status ${res.status}, signal ${res.signal}): ${error ? (error as { message: string }).message : ""}\n${res.stderr.slice(-4000)}`,
		);
	}
	const checks = records.filter((r): r is HostCheck => r.event === "check");
	if (checks.length !== cases.length) {
		throw new Error(`the host answered ${checks.length} of ${cases.length} checks\n${res.stderr.slice(-4000)}`);
	}
	return checks;
}

/** A record of a sim script (check, start, pending, collect, release, threads, wait-threads). */
export interface HostRecord {
	event: string;
	id?: string;
	state?: number;
	msgid?: number;
	needWait?: boolean;
	/** The path's map context after the call (-1: unset). */
	mpc?: number;
	count?: number;
	ms?: number;
	commands?: HostCheck["commands"];
	unanswered?: number;
	leftover?: number;
}

/** Runs a raw sim script (lines of the case file); every record, in order. */
export function runSimScript(set: NativeSet, checker: string, lines: string[], opts: SimRunOptions = {}): HostRecord[] {
	const dir = join(BUILD_DIR, "sim");
	mkdirSync(dir, { recursive: true });
	const file = join(dir, `script-${process.pid}-${seq++}.txt`);
	writeFileSync(file, `${lines.join("\n")}\n`);
	const res = spawnSync(set.host, ["--checker", set.simPlugin(checker), "--timeout", String(opts.timeout ?? 30), "sim", file], {
		encoding: "utf8",
		timeout: 120_000,
		env: { ...process.env, ...opts.env },
	});
	if (res.error) throw res.error;
	const records = res.stdout
		.split("\n")
		.filter((l) => l.startsWith("{"))
		.map((l) => JSON.parse(l) as HostRecord);
	if (res.status !== 0 || records.some((r) => r.event === "error")) {
		throw new Error(`checker host failed (status ${res.status}, signal ${res.signal}):\n${res.stdout.slice(-2000)}\n${res.stderr.slice(-3000)}`);
	}
	return records;
}
