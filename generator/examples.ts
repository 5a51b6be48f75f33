// The checker author's examples for `mpcheckgen test --examples FILE`: one
// check a line, the device's answers in order and the outcome the check
// must reach,
//
//   # answers                                    -> path state and message
//   ok                                           -> PATH_UP UP
//   errno ENOTTY                                 -> PATH_WILD UNSUPPORTED
//   sense UNIT_ATTENTION; ok                     -> PATH_UP UP
//   sense NOT_READY 04/0A                        -> PATH_PENDING transitioning
//   status 0x18                                  -> PATH_DOWN DOWN
//   host DID_NO_CONNECT                          -> PATH_DOWN DOWN
//
// An answer is `ok` (the ioctl succeeded, GOOD status, nothing else) or
// fields: `errno NAME|N`, `status NAME|N`, `host NAME|N`, `driver N`,
// `info N`, `resid N`, `sense KEY [ASC/ASCQ]` (fixed-format sense; CHECK
// CONDITION status unless `status` is given), `sense-bytes HEX` (the bytes
// as sent), `sb-len N` (sb_len_wr), `data HEX`. As the kernel does, `info`
// is SG_INFO_CHECK (1) when a status, host or driver status or sense is
// given, 0 otherwise, unless `info` says. `;` separates the answers
// of one check. The message is a generic one (UP, DOWN, …) or a checker
// message's key; left out, only the path state is checked. Each line is a
// check on a path of its own, except that lines after `path NAME` up to the
// next `path` line are checks in a row on one path (sharing the context).
import type { SimAnswer } from "./interp/interpret.ts";
import type { CheckerModel } from "./model/types.ts";
import { ERRNO, HOST_STATUS, SCSI_STATUS, SENSE_KEY, nameOf } from "./spec/vocabulary.ts";

export interface Example {
	/** file:line, for messages. */
	where: string;
	line: number;
	/** The path the check runs on; examples on one path run in order, sharing the context. */
	path: string;
	answers: SimAnswer[];
	pathState: string;
	/** The message's key; absent: not checked. */
	message?: string;
	/** The line as written (without comment). */
	text: string;
}

export class ExamplesError extends Error {}

const hexBytes = (s: string, where: string): number[] => {
	const h = s.replace(/^0x/i, "");
	if (!/^([0-9a-f]{2})*$/i.test(h)) throw new ExamplesError(`${where}: '${s}' is not hex bytes (e.g. 7000060000000000)`);
	return (h.match(/../g) ?? []).map((b) => Number.parseInt(b, 16));
};

function numberOr(table: Record<string, number>, what: string, v: string | undefined, where: string): number {
	if (v === undefined) throw new ExamplesError(`${where}: ${what} needs a value`);
	if (v in table) return table[v];
	if (/^(0x[0-9a-f]+|\d+)$/i.test(v)) return Number(v);
	const names = Object.keys(table);
	const near = names.find((n) => n.toLowerCase() === v.toLowerCase());
	throw new ExamplesError(
		`${where}: unknown ${what} '${v}'${near ? ` (did you mean ${near}?)` : ""}; a number or one of ${names.join(", ")}`,
	);
}

/** Fixed-format sense data (response code 0x70) with a key and ASC/ASCQ. */
export function fixedSenseBytes(key: number, asc: number, ascq: number): number[] {
	const s = new Array<number>(18).fill(0);
	s[0] = 0x70;
	s[2] = key & 0x0f;
	s[7] = 10;
	s[12] = asc;
	s[13] = ascq;
	return s;
}

/** The kernel sets SG_INFO_CHECK when the status, host or driver status is not 0, or sense came back. */
function infoCheck(a: SimAnswer): boolean {
	return (a.status ?? 0) !== 0 || (a.hostStatus ?? 0) !== 0 || (a.driverStatus ?? 0) !== 0 || (a.sense ?? []).length > 0;
}

function parseAnswer(text: string, where: string): SimAnswer {
	const t = text.trim().split(/\s+/).filter(Boolean);
	if (t.length === 1 && t[0] === "ok") return {};
	if (t.length === 0) throw new ExamplesError(`${where}: an empty answer (write 'ok' for a plain success)`);
	const a: SimAnswer = {};
	let senseGiven = false;
	for (let i = 0; i < t.length; ) {
		const field = t[i++];
		const value = t[i++];
		switch (field) {
			case "errno":
				a.errno = numberOr(ERRNO, "errno", value, where);
				break;
			case "status":
				a.status = numberOr(SCSI_STATUS, "status", value, where);
				break;
			case "host":
				a.hostStatus = numberOr(HOST_STATUS, "host status", value, where);
				break;
			case "driver":
				a.driverStatus = numberOr({}, "driver status", value, where);
				break;
			case "info":
				a.info = numberOr({}, "info", value, where);
				break;
			case "resid":
				a.resid = numberOr({}, "resid", value, where);
				break;
			case "sb-len":
				a.sbLenWr = numberOr({}, "sb-len", value, where);
				break;
			case "sense": {
				const key = numberOr(SENSE_KEY, "sense key", value, where);
				let asc = 0;
				let ascq = 0;
				if (t[i] !== undefined && /^[0-9a-f]{2}\/[0-9a-f]{2}$/i.test(t[i])) {
					[asc, ascq] = t[i++].split("/").map((x) => Number.parseInt(x, 16));
				}
				a.sense = fixedSenseBytes(key, asc, ascq);
				senseGiven = true;
				break;
			}
			case "sense-bytes":
				if (value === undefined) throw new ExamplesError(`${where}: sense-bytes needs hex bytes`);
				a.sense = hexBytes(value, where);
				senseGiven = true;
				break;
			case "data":
				if (value === undefined) throw new ExamplesError(`${where}: data needs hex bytes`);
				a.data = hexBytes(value, where);
				break;
			default:
				throw new ExamplesError(
					`${where}: unknown answer field '${field}' (ok, errno, status, host, driver, info, resid, sense, sense-bytes, sb-len, data)`,
				);
		}
	}
	if (senseGiven && a.status === undefined) a.status = SCSI_STATUS.CHECK_CONDITION;
	if (a.info === undefined && !a.errno && infoCheck(a)) a.info = 1;
	return a;
}

/** Parses an examples file; throws ExamplesError at the first bad line. */
export function parseExamples(text: string, file: string): Example[] {
	const out: Example[] = [];
	let path: string | undefined;
	text.split("\n").forEach((raw, i) => {
		const line = raw.replace(/#.*$/, "").trim();
		const where = `${file}:${i + 1}`;
		if (line === "") return;
		const p = /^path\s+(\S+)$/.exec(line);
		if (p) {
			path = p[1];
			return;
		}
		const arrow = line.indexOf("->");
		if (arrow < 0) throw new ExamplesError(`${where}: expected 'ANSWERS -> PATH_STATE [MESSAGE]' (or 'path NAME')`);
		const answers = line
			.slice(0, arrow)
			.split(";")
			.map((a) => parseAnswer(a, where));
		const want = line.slice(arrow + 2).trim().split(/\s+/).filter(Boolean);
		if (want.length < 1 || want.length > 2 || !/^PATH_[A-Z]+$/.test(want[0])) {
			throw new ExamplesError(`${where}: after '->' a path state (PATH_UP, PATH_DOWN, …) and optionally a message`);
		}
		out.push({ where, line: i + 1, path: path ?? `example-${i + 1}`, answers, pathState: want[0], message: want[1], text: line });
	});
	return out;
}

/** Names the outcomes an example can expect: the model's path states and messages. */
export function outcomeNames(m: CheckerModel): { states: Map<number, string>; messages: Map<number, string> } {
	const states = new Map<number, string>();
	const messages = new Map<number, string>();
	for (const s of m.states) {
		for (const r of s.rules) {
			const finals = r.outcome.kind === "retry" ? (r.outcome.exhausted ? [r.outcome.exhausted] : []) : [r.outcome];
			for (const o of finals) {
				if (o.kind !== "report") continue;
				states.set(o.pathState.value, o.pathState.name);
				messages.set(o.message.id, o.message.key);
			}
		}
	}
	for (const msg of m.messages) messages.set(msg.id, msg.key);
	return { states, messages };
}

/** An answer in the examples notation (for printing a failing case so it can be pasted into an examples file). */
export function formatAnswer(a: SimAnswer): string {
	const f: string[] = [];
	const hex = (b: readonly number[]) => b.map((x) => (x & 0xff).toString(16).padStart(2, "0")).join("");
	if (a.errno) f.push(`errno ${nameOf(ERRNO, a.errno) ?? a.errno}`);
	const sensed = (a.sense ?? []).length > 0;
	// `sense` alone means CHECK CONDITION: any other status is written out
	if ((a.status ?? 0) !== 0 || sensed) f.push(`status 0x${(a.status ?? 0).toString(16).padStart(2, "0")}`);
	if (a.hostStatus) f.push(`host ${nameOf(HOST_STATUS, a.hostStatus) ?? a.hostStatus}`);
	if (a.driverStatus) f.push(`driver ${a.driverStatus}`);
	if (!a.errno && (a.info ?? 0) !== (infoCheck(a) ? 1 : 0)) f.push(`info ${a.info ?? 0}`);
	if (a.resid !== undefined) f.push(`resid ${a.resid}`);
	if (a.sense && a.sense.length > 0) f.push(`sense-bytes ${hex(a.sense)}`);
	if (a.sbLenWr !== undefined && a.sbLenWr !== (a.sense ?? []).length) f.push(`sb-len ${a.sbLenWr}`);
	if (a.data && a.data.length > 0) f.push(`data ${hex(a.data)}`);
	return f.length === 0 ? "ok" : f.join(" ");
}
