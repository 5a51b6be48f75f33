// Command execution for the tree harness: one output stream (stdout and
// stderr interleaved as they arrive, as a terminal would show a make run),
// the wall time, and errors that end with the tail of that output.
import { spawn } from "node:child_process";

export interface CommandResult {
	/** stdout and stderr interleaved in arrival order */
	output: string;
	stdout: string;
	stderr: string;
	status: number;
	ms: number;
}

export interface CommandOptions {
	cwd?: string;
	/** the full environment (default: process.env) */
	env?: NodeJS.ProcessEnv;
	/** what the command does, for the error message */
	what?: string;
	/** lines of output an error message ends with (default 60) */
	tailLines?: number;
}

/** One progress line on stderr, prefixed "mpcheckgen tree: ". */
export function progress(msg: string): void {
	process.stderr.write(`mpcheckgen tree: ${msg}\n`);
}

export function tail(text: string, lines: number): string {
	const l = text.replace(/\n$/, "").split("\n");
	return l.slice(Math.max(0, l.length - lines)).join("\n");
}

export function fmtSeconds(ms: number): string {
	return `${(ms / 1000).toFixed(1)} s`;
}

/** An error from a command that ran and failed; `result` holds all of its output. */
export class CommandError extends Error {
	constructor(
		message: string,
		readonly result: CommandResult,
	) {
		super(message);
		this.name = "CommandError";
	}
}

function commandLine(cmd: string, args: readonly string[]): string {
	return [cmd, ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`)).join(" ");
}

/** Runs a command and resolves with its output, also when it fails. */
export function runCommand(cmd: string, args: readonly string[], opts: CommandOptions = {}): Promise<CommandResult> {
	const t0 = Date.now();
	return new Promise((resolve, reject) => {
		const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
		let output = "";
		let stdout = "";
		let stderr = "";
		child.stdout.setEncoding("utf8").on("data", (d: string) => {
			stdout += d;
			output += d;
		});
		child.stderr.setEncoding("utf8").on("data", (d: string) => {
			stderr += d;
			output += d;
		});
		child.on("error", (e) =>
			reject(new Error(`mpcheckgen tree: cannot run ${cmd}${opts.what ? ` (${opts.what})` : ""}: ${e.message}`)),
		);
		child.on("close", (code, signal) =>
			resolve({ output, stdout, stderr, status: code ?? 128 + (signal ? 9 : 1), ms: Date.now() - t0 }),
		);
	});
}

/** Runs a command; throws a CommandError naming it, its exit status and the tail of its output when it fails. */
export async function runChecked(cmd: string, args: readonly string[], opts: CommandOptions = {}): Promise<CommandResult> {
	const r = await runCommand(cmd, args, opts);
	if (r.status !== 0) {
		const n = opts.tailLines ?? 60;
		throw new CommandError(
			`mpcheckgen tree: ${opts.what ? opts.what + " failed" : "command failed"} (exit ${r.status}` +
				`${opts.cwd ? ` in ${opts.cwd}` : ""}): ${commandLine(cmd, args)}\n` +
				`--- last ${n} lines of output ---\n${tail(r.output, n)}`,
			r,
		);
	}
	return r;
}
