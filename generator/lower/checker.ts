// Lowering of a checker model to the C IR of its file
// (libmultipath/checkers/NAME.c). Every identifier of the file is claimed
// here, from the file's symbol table; rule lists become if-chains, or a
// switch where consecutive rules test one field against constants. A
// one-state checker is one function with a retry label; a checker with
// several states is a step machine with one function per state.
import { SpecError } from "../model/diagnostics.ts";
import type {
	AssignmentModel,
	CheckerModel,
	CommandStateModel,
	ContextFieldModel,
	FinalOutcomeModel,
	MessageRef,
	StateModel,
} from "../model/types.ts";
import type { CCase, CFile, CItem, CSection, CStmt } from "./c-ir.ts";
import { fieldsUsed } from "../model/fields-used.ts";
import { allocationSizes, byteOrderHelpers, cdbStmts, payloadStmts, sendsDataReadEarlier } from "./checker-command.ts";
import { C_TYPES, CheckerNames, memberDecl, DXFER_C, hex, type CheckerTarget } from "./checker-names.ts";
import { assignments, ruleList, type StateEnv } from "./checker-rules.ts";
import { allocBuffer, transportCall, transportItems, transportsOf } from "./checker-transport.ts";
import { testedRules } from "./conditions.ts";
import { decoderFunction, usesUintMax } from "./decoder.ts";
import { snakeCase } from "./names.ts";
import type { HeaderNames } from "./headers.ts";

export type { CheckerTarget } from "./checker-names.ts";

/**
 * Whether a state's C needs the path context (ctx): a state that neither
 * tests nor sets a path field (a decision with one plain goto) would
 * declare ctx unused (-Werror=unused-variable).
 */
function usesContext(s: StateModel): boolean {
	return [...fieldsUsed(s)].some((f) => f.scope.kind === "path");
}

function usesMap(s: StateModel): boolean {
	return [...fieldsUsed(s)].some((f) => f.scope.kind === "map");
}

/**
 * Whether a state's step function needs the check: every command state
 * does; a decision only to read or set the context or to report (one that
 * only moves on takes no parameter: -Werror=unused-parameter).
 */
function usesCheck(s: StateModel, m: CheckerModel): boolean {
	return s.kind === "command" || usesContext(s) || usesMap(s) || s.rules.some((r) => r.outcome.kind === "report");
}

/** The body of a state: its declarations (`locals` among them), the command and decoding, and the rules after `head`. */
function stateBody(
	s: StateModel,
	env: StateEnv,
	io: { fd: string; timeout: string; buf: string },
	head: CStmt[],
	locals: CStmt[] = [],
): CStmt[] {
	const n = env.n;
	const decls: CStmt[] = [];
	const run: CStmt[] = [...head];
	// a state whose data a later payload sends reads into its own buffer; the payload is sent from it
	if (s.kind === "command") {
		const own = n.kept.get(s) ?? (s.command.payload?.source ? n.kept.get(s.command.payload.source) : undefined);
		if (own) io = { ...io, buf: `ck->${own}` };
	}
	if (usesContext(s)) decls.push({ kind: "decl", decl: `struct ${n.contextTag} *ctx`, init: n.multiState ? "ck->ctx" : "(void *)rdata->checker_ctx" });
	// a one-state check works on its own copy of the map context (a step machine's is ck->map)
	if (!n.multiState && n.mapFields.length > 0) {
		decls.push({ kind: "decl", decl: `struct ${n.mapTag} map` });
		run.unshift({ kind: "expr", text: `${n.mapLoad}(&map, rdata)` });
	}
	if (s.kind === "command") {
		const cmd = s.command;
		const len = cmd.dataLength.kind === "context" ? "len" : (n.dataLen.get(s) ?? "0");
		const { decl, setup } = cdbStmts(s, env, len);
		if (cmd.transport !== "directRead") decls.push(decl);
		if (cmd.dataLength.kind === "context") decls.push({ kind: "decl", decl: "unsigned int len", init: n.ref(cmd.dataLength.field) });
		decls.push(...locals, { kind: "decl", decl: "struct sg_answer ans" });
		if (env.decoder) decls.push({ kind: "decl", decl: `struct ${env.decoder.struct} d` });
		run.push(...setup, ...payloadStmts(s, env, io.buf, len));
		const buf = cmd.direction === "none" ? "NULL" : io.buf;
		run.push({
			kind: "expr",
			text: transportCall(n, cmd, io, len) ?? `sg_send(${io.fd}, ${io.timeout}, cdb, sizeof(cdb), ${DXFER_C[cmd.direction]}, ${buf}, ${len}, &ans)`,
		});
		if (env.decoder && s.decoder) {
			const d = env.decoder;
			const inputs = s.decoder.inputs.map((i) => n.ref(i.field));
			run.push({
				kind: "if",
				cond: ["ans.err == 0", "(ans.info & SG_INFO_OK_MASK) == SG_INFO_OK"],
				then: [{ kind: "expr", text: `${d.fn}(${[io.buf, "ans.transferred", len, ...inputs, "&d"].join(", ")})` }],
				else: [{ kind: "expr", text: `d.outcome = ${d.notDecoded}` }],
			});
			for (const st of s.decoder.store) {
				run.push({ kind: "if", cond: [`d.outcome == ${d.outcomes[st.outcome.index]}`], then: assignments(st.assignments, env) });
			}
		}
	}
	run.push(...ruleList(testedRules(s.rules), env, new Set()));
	return [...decls, ...(decls.length > 0 ? [{ kind: "blank" } as CStmt] : []), ...run];
}

const CANCEL_POINT: CStmt[] = [
	{
		kind: "comment",
		text: "A check that timed out is cancelled: it stops here, before its next command, rather than when that command returns.",
	},
	{ kind: "expr", text: "pthread_testcancel()" },
];

function outOfMemory(n: CheckerNames): CStmt {
	return {
		kind: "if",
		cond: [n.multiState ? "!ck.buf" : "!buf"],
		then: [
			{ kind: "expr", text: `condlog(1, "%d:%d : ${n.m.name} checker: out of memory", major(rdata->devt), minor(rdata->devt))` },
			{ kind: "expr", text: "rdata->msgid = CHECKER_MSGID_NONE" },
			{ kind: "return", value: "PATH_UNCHECKED" },
		],
	};
}

function stateDoc(s: StateModel): string {
	const title = s.kind === "command" ? `State "${s.key}": ${s.command.name}.` : `State "${s.key}": decide from the context.`;
	return s.doc ? `${title}\n\n${s.doc}` : title;
}

/** A one-state check: one function, a retry label, reports straight into rdata. */
function oneStateFunctions(n: CheckerNames): CItem[] {
	const s = n.m.states[0];
	// a report stores the map context back if it may have changed: where
	// only reports set map fields, those reports; else every report
	const setsMap = (list: readonly AssignmentModel[]) => list.some((a) => a.field.scope.kind === "map");
	const early =
		(s.kind === "command" && (s.decoder?.store ?? []).some((st) => setsMap(st.assignments))) ||
		s.rules.some((r) => r.outcome.kind === "retry" && setsMap(r.outcome.assignments));
	const storesMap = (o: FinalOutcomeModel) => n.mapFields.length > 0 && (early || setsMap(o.assignments));
	const retries = s.rules.some((r) => r.outcome.kind === "retry");
	const env: StateEnv = {
		n,
		state: s,
		decoder: s.kind === "command" && s.decoder ? n.decoders.get(s.decoder.decoder) : undefined,
		budget: (b) => n.budgetCounter.get(b)!,
		report: (o) => [
			...(storesMap(o) ? [{ kind: "expr", text: `${n.mapStore}(rdata, &map)` } as CStmt] : []),
			{ kind: "expr", text: `rdata->msgid = ${reportedMessage(n, o, env)}` },
			{ kind: "return", value: pathStateName(n, o.pathState.name) },
		],
		jump: () => ({ kind: "goto", label: "retry" }),
	};
	const counters: CStmt[] = n.m.budgets.map((b) => ({ kind: "decl", decl: `unsigned int ${n.budgetCounter.get(b)!}`, init: "0" }));
	const head: CStmt[] = retries ? [{ kind: "label", name: "retry" }, ...CANCEL_POINT] : [];
	const withBuf = n.m.maxDataLength > 0;
	const full = stateBody(s, env, { fd: "rdata->fd", timeout: "rdata->timeout", buf: "buf" }, head, counters);
	if (!withBuf) {
		return [{ kind: "function", doc: stateDoc(s), isStatic: false, returns: "int", name: "libcheck_async_func", params: ["struct runner_data *rdata"], body: full }];
	}
	const fn = n.t.ordinary.claim(`${n.p}_${snakeCase(s.key)}`, { what: `state '${s.key}'`, loc: s.loc });
	return [
		{ kind: "function", doc: stateDoc(s), isStatic: true, returns: "int", name: fn, params: ["struct runner_data *rdata", "unsigned char *buf"], body: full },
		{
			kind: "function",
			isStatic: false,
			returns: "int",
			name: "libcheck_async_func",
			params: ["struct runner_data *rdata"],
			body: [
				{ kind: "decl", decl: "unsigned char *buf" },
				{ kind: "decl", decl: "int state" },
				{ kind: "blank" },
				allocBuffer(n, "buf"),
				outOfMemory(n),
				{ kind: "expr", text: "pthread_cleanup_push(free, buf)" },
				{ kind: "expr", text: `state = ${fn}(rdata, buf)` },
				{ kind: "expr", text: "pthread_cleanup_pop(1)" },
				{ kind: "return", value: "state" },
			],
		},
	];
}

function messageName(n: CheckerNames, m: MessageRef): string {
	if (m.kind === "checker") return n.messages.get(m.key)!;
	return `CHECKER_MSGID_${n.target.messageSubstitutes[m.key] ?? m.key}`;
}

/** The message ID a report sets: a message with values adds the value that picks its entry. */
function reportedMessage(n: CheckerNames, o: Extract<FinalOutcomeModel, { kind: "report" }>, env: StateEnv): string {
	const base = messageName(n, o.message);
	const v = o.messageValue;
	if (!v || v.kind === "const") return base;
	return `${base} + ${v.kind === "context" ? n.ref(v.field) : `d.${env.decoder!.fields.get(v.field.key)!}`}`;
}

/** The path state as the target has it (0.9.4 has no PATH_DISCONNECTED: PATH_DOWN, as later multipathd makes of it). */
function pathStateName(n: CheckerNames, name: string): string {
	return n.target.substitutes[name] ?? name;
}

/** A step machine: a function per state returning the next step, a dispatch loop in libcheck_async_func. */
function stepMachineItems(n: CheckerNames): CItem[] {
	const { m } = n;
	const items: CItem[] = [];
	items.push({
		kind: "enum",
		tag: n.stepTag,
		members: [...m.states.map((s) => ({ name: n.stateStep.get(s)! })), { name: n.done }],
	});
	items.push({
		kind: "struct",
		tag: n.checkTag,
		doc: "One check in progress",
		members: [
			{ decl: "struct runner_data *rdata" },
			...(n.pathFields.length > 0 ? [{ decl: `struct ${n.contextTag} *ctx` }] : []),
			...(n.mapFields.length > 0 ? [{ decl: `struct ${n.mapTag} map`, doc: "the check's copy of the map context" }] : []),
			...(m.maxDataLength > 0 ? [{ decl: "unsigned char *buf", doc: "the data buffer of every command" }] : []),
			...[...n.kept].map(([s, name]) => ({
				decl: `unsigned char ${name}[${n.dataLen.get(s) ?? (s as CommandStateModel).command.maxDataLength}]`,
				doc: `what "${s.key}" read, for a later command to send`,
			})),
			...m.budgets.map((b) => ({ decl: `unsigned int ${n.budgetCounter.get(b)!}` })),
			{ decl: "int state" },
			{ decl: "short msgid" },
		],
	});
	return items;
}

function stepMachineFunctions(n: CheckerNames): CItem[] {
	const { m } = n;
	const items: CItem[] = [];
	items.push({
		kind: "function",
		isStatic: true,
		returns: `enum ${n.stepTag}`,
		name: n.report,
		params: [`struct ${n.checkTag} *ck`, "int state", "short msgid"],
		body: [
			{ kind: "expr", text: "ck->state = state" },
			{ kind: "expr", text: "ck->msgid = msgid" },
			{ kind: "return", value: n.done },
		],
	});
	for (const s of m.states) {
		const env: StateEnv = {
			n,
			state: s,
			decoder: s.kind === "command" && s.decoder ? n.decoders.get(s.decoder.decoder) : undefined,
			budget: (b) => `ck->${n.budgetCounter.get(b)!}`,
			report: (o) => [{ kind: "return", value: `${n.report}(ck, ${pathStateName(n, o.pathState.name)}, ${reportedMessage(n, o, env)})` }],
			jump: (target) => ({ kind: "return", value: n.stateStep.get(target)! }),
			done: () => ({ kind: "return", value: n.done }),
		};
		items.push({
			kind: "function",
			doc: stateDoc(s),
			isStatic: true,
			returns: `enum ${n.stepTag}`,
			name: n.stateFn.get(s)!,
			params: usesCheck(s, m) ? [`struct ${n.checkTag} *ck`] : [],
			body: stateBody(s, env, { fd: "ck->rdata->fd", timeout: "ck->rdata->timeout", buf: "ck->buf" }, []),
		});
	}
	const withBuf = m.maxDataLength > 0;
	const dispatch = (ck: string): CCase[] => [
		...m.states.map((s) => ({
			labels: [n.stateStep.get(s)!],
			body: [{ kind: "expr", text: `step = ${n.stateFn.get(s)!}(${usesCheck(s, m) ? ck : ""})` } as CStmt, { kind: "break" } as CStmt],
		})),
		{ labels: [n.done], body: [{ kind: "break" }] },
	];
	const loop = (ck: string): CStmt => ({ kind: "while", cond: `step != ${n.done}`, body: [...CANCEL_POINT, { kind: "switch", on: "step", cases: dispatch(ck) }] });
	// with init states, the check and the init run the same steps from different states
	if (m.init) {
		items.push({
			kind: "function",
			doc: "Runs the steps from `step` until one ends the check or the init.",
			isStatic: true,
			returns: "void",
			name: n.run,
			params: [`struct ${n.checkTag} *ck`, `enum ${n.stepTag} step`],
			body: [loop("ck")],
		});
	}
	const runFrom = (start: StateModel): CStmt[] => (m.init ? [{ kind: "expr", text: `${n.run}(&ck, ${n.stateStep.get(start)!})` }] : [loop("&ck")]);
	items.push({
		kind: "function",
		isStatic: false,
		returns: "int",
		name: "libcheck_async_func",
		params: ["struct runner_data *rdata"],
		body: [
			checkDecl(n),
			...(m.init ? [] : ([{ kind: "decl", decl: `enum ${n.stepTag} step`, init: n.stateStep.get(m.initial)! }] as CStmt[])),
			{ kind: "blank" },
			...(n.mapFields.length > 0 ? [{ kind: "expr", text: `${n.mapLoad}(&ck.map, rdata)` } as CStmt] : []),
			...(withBuf
				? ([
						allocBuffer(n, "ck.buf"),
						outOfMemory(n),
						{ kind: "expr", text: "pthread_cleanup_push(free, ck.buf)" },
						{ kind: "blank" },
					] as CStmt[])
				: []),
			...runFrom(m.initial),
			...(withBuf ? ([{ kind: "expr", text: "pthread_cleanup_pop(1)" }] as CStmt[]) : []),
			...(n.mapFields.length > 0 ? [{ kind: "expr", text: `${n.mapStore}(rdata, &ck.map)` } as CStmt] : []),
			{ kind: "expr", text: "rdata->msgid = ck.msgid" },
			{ kind: "return", value: "ck.state" },
		],
	});
	return items;
}

/**
 * The map context: its struct (the check's copy), the packed value of its
 * initial fields, and the functions that unpack it from rdata->mpc (the
 * long of union checker_mpcontext, invalid until a check has set it) and
 * pack it back when the check changed it.
 */
function mapContextItems(n: CheckerNames): CItem[] {
	const fields = n.mapFields;
	const shift = (f: ContextFieldModel) => (f.scope.kind === "map" ? f.scope.shift : 0);
	const bits = (f: ContextFieldModel) => (f.scope.kind === "map" ? f.scope.bits : 0);
	const init = fields.reduce((v, f) => v + f.init * 2 ** shift(f), 0);
	const pack = fields.map((f) => (shift(f) === 0 ? `(long)map->${n.field(f)}` : `(long)map->${n.field(f)} << ${shift(f)}`)).join(" | ");
	const unpack = (f: ContextFieldModel): string => {
		const v = shift(f) === 0 ? "v" : `(v >> ${shift(f)})`;
		return `${v} & ${hex(2 ** bits(f) - 1, 1)}`;
	};
	return [
		{
			kind: "struct",
			tag: n.mapTag,
			doc: "The map context, shared by the paths of the map: packed into its union checker_mpcontext. A check works on a copy; the framework keeps the changes of a completed check.",
			members: fields.map((f) => ({ decl: memberDecl(f, n.field(f)), doc: f.doc })),
		},
		{ kind: "define", name: n.mapInit, value: `${init}L`, doc: "The map context no check has set yet: the fields' initial values, packed" },
		{
			kind: "function",
			doc: "The check's copy of the map context, from rdata->mpc",
			isStatic: true,
			returns: "void",
			name: n.mapLoad,
			params: [`struct ${n.mapTag} *map`, "const struct runner_data *rdata"],
			body: [
				{ kind: "decl", decl: "long v", init: `IS_INVALID_MPCONTEXT(rdata->mpc) ? ${n.mapInit} : rdata->mpc.long_val` },
				{ kind: "blank" },
				...fields.map((f): CStmt => ({ kind: "expr", text: `map->${n.field(f)} = ${unpack(f)}` })),
			],
		},
		{
			kind: "function",
			doc: "Stores the check's copy of the map context into rdata->mpc if the check changed it",
			isStatic: true,
			returns: "void",
			name: n.mapStore,
			params: ["struct runner_data *rdata", `const struct ${n.mapTag} *map`],
			body: [
				{ kind: "decl", decl: "long v", init: pack },
				{ kind: "decl", decl: "long was", init: `IS_INVALID_MPCONTEXT(rdata->mpc) ? ${n.mapInit} : rdata->mpc.long_val` },
				{ kind: "blank" },
				{ kind: "if", cond: ["v != was"], then: [{ kind: "expr", text: "rdata->mpc.long_val = v" }] },
			],
		},
	];
}

/** ABI A: multipathd calls libcheck_mp_init() while the map's slot is NULL; it allocates the map context there (multipathd frees it with the map). */
function mpInitFunction(n: CheckerNames): CItem {
	return {
		kind: "function",
		doc: "Allocates the map context, unset, into the map's slot (multipathd frees it with the map)",
		isStatic: false,
		returns: "int",
		name: "libcheck_mp_init",
		params: ["struct checker *c"],
		body: [
			{ kind: "decl", decl: "union checker_mpcontext *mpc" },
			{ kind: "blank" },
			{ kind: "if", cond: ["!c->mpcontext"], then: [{ kind: "return", value: "1" }] },
			{ kind: "expr", text: "mpc = malloc(sizeof(*mpc))" },
			{ kind: "if", cond: ["!mpc"], then: [{ kind: "return", value: "1" }] },
			{ kind: "expr", text: "SET_INVALID_MPCONTEXT(*mpc)" },
			{ kind: "expr", text: "*c->mpcontext = mpc" },
			{ kind: "return", value: "0" },
		],
	};
}

/** The check struct of a step machine, set up for a run of its steps. */
function checkDecl(n: CheckerNames): CStmt {
	return {
		kind: "decl",
		decl: `struct ${n.checkTag} ck`,
		init: {
			kind: "designated",
			entries: [
				{ designator: ".rdata", value: "rdata" },
				...(n.pathFields.length > 0 ? [{ designator: ".ctx", value: "(void *)rdata->checker_ctx" }] : []),
				{ designator: ".state", value: "PATH_UNCHECKED" },
				{ designator: ".msgid", value: "CHECKER_MSGID_NONE" },
			],
		},
	};
}

/**
 * The init states' run in libcheck_async_init (a target whose init gets
 * the path's fd): in the caller's thread, before init returns; what they
 * get is not reported, and init succeeds whatever it is, as upstream's
 * init ignores its failures.
 */
function initRun(n: CheckerNames): CStmt[] {
	const { m } = n;
	const withBuf = m.maxDataLength > 0;
	return [
		{ kind: "comment", text: "The init states: what they get is not reported, and init succeeds whatever it is (as upstream's)" },
		...(withBuf
			? ([
					allocBuffer(n, "ck.buf"),
					{
						kind: "if",
						cond: ["!ck.buf"],
						then: [
							{ kind: "expr", text: `condlog(3, "%d:%d : ${m.name} checker: out of memory, init commands not sent", major(rdata->devt), minor(rdata->devt))` },
							{ kind: "return", value: "0" },
						],
					},
					{ kind: "expr", text: "pthread_cleanup_push(free, ck.buf)" },
				] as CStmt[])
			: []),
		{ kind: "expr", text: `${n.run}(&ck, ${n.stateStep.get(m.init!.initial)!})` },
		...(withBuf ? ([{ kind: "expr", text: "pthread_cleanup_pop(1)" }] as CStmt[]) : []),
	];
}

function decoderItems(n: CheckerNames): CItem[] {
	const items: CItem[] = [];
	if (n.m.decoders.length === 0) return items;
	for (const d of n.m.decoders) {
		const dn = n.decoders.get(d)!;
		items.push({
			kind: "enum",
			tag: dn.outcomeEnum,
			doc: `What ${d.name} found: ${d.doc}`,
			members: [
				...d.outcomes.map((o, i) => ({ name: dn.outcomes[i], doc: o.doc })),
				{ name: dn.notDecoded, doc: "the answer was not GOOD: nothing was decoded" },
			],
		});
		items.push({
			kind: "struct",
			tag: dn.struct,
			members: [
				{ decl: `enum ${dn.outcomeEnum} outcome` },
				...d.fields.map((f) => ({ decl: memberDecl(f, dn.fields.get(f.key)!), doc: f.doc })),
			],
		});
		items.push(decoderFunction(n, d, dn));
	}
	return items;
}

/** The file a checker model lowers to; throws SpecError when its C names clash. */
export function lowerChecker(m: CheckerModel, headers: HeaderNames, target: CheckerTarget): CFile {
	const n = new CheckerNames(m, headers, target);
	const sections: CSection[] = [];
	const defines: CItem[] = [];
	if (n.bufLen) defines.push({ kind: "define", name: n.bufLen, value: String(m.maxDataLength), doc: "The data buffer: the largest any command uses" });
	for (const [s, name] of n.dataLen) {
		const len = (s as CommandStateModel).command.dataLength;
		if (len.kind === "const") defines.push({ kind: "define", name, value: String(len.value), doc: `The data length of state "${s.key}"` });
	}
	sections.push({ items: defines, tight: true });
	const symbols = [...n.cdbSymbols.values()].filter((s) => !s.header);
	sections.push({ items: symbols.map((s) => ({ kind: "define", name: s.name, value: hex(s.value), doc: s.doc })), tight: true });
	const framework = target.frameworkMessages;
	if (m.messages.length > 0 || framework.length > 0) {
		sections.push({
			items: [
				...(m.messages.length > 0
					? [
							{
								kind: "enum",
								members: m.messages.map((msg, i) => {
									const prev = m.messages[i - 1];
									return {
										name: n.messages.get(msg.key)!,
										// after a message with values: its entries come first
										value: i === 0 ? target.firstMessage : prev.values ? `${n.messages.get(prev.key)!} + ${prev.values.length}` : undefined,
										doc: msg.doc,
									};
								}),
							} as CItem,
						]
					: []),
				{ kind: "define", name: "IDX_(x)", value: "((x) - CHECKER_FIRST_MSGID)" },
				{
					kind: "variable",
					decl: "const char *libcheck_msgtable[]",
					verbatim: true,
					init: {
						kind: "designated",
						entries: [
							...framework.map((f) => ({ designator: `[IDX_(${f.name})]`, value: JSON.stringify(f.text) })),
							...m.messages.flatMap((msg) =>
								msg.values
									? msg.values.map((v, k) => ({
											designator: `[IDX_(${n.messages.get(msg.key)!})${k === 0 ? "" : ` + ${k}`}]`,
											value: JSON.stringify(msg.text.replace("%s", v)),
										}))
									: [{ designator: `[IDX_(${n.messages.get(msg.key)!})]`, value: JSON.stringify(msg.text) }],
							),
							{ designator: "", value: "NULL" },
						],
					},
				},
			],
		});
	}
	sections.push({
		items: m.budgets.map((b) => ({ kind: "define", name: n.budgetMax.get(b)!, value: String(b.maxRetries), doc: b.doc })),
		tight: true,
	});
	const bounds = m.context.filter((f) => f.bounded && clampedFields(m).has(f));
	if (bounds.length > 0) {
		sections.push({
			items: [
				{ kind: "comment", text: "Bounds of context fields: a larger value is stored as the bound" },
				...bounds.map((f): CItem => ({ kind: "define", name: n.fieldMax.get(f)!, value: String(f.max) })),
			],
			tight: true,
		});
	}
	if (n.pathFields.length > 0) {
		sections.push({
			items: [
				{
					kind: "struct",
					tag: n.contextTag,
					doc: "The per-path context, kept between checks. A check works on a copy; changes are kept only when the check completes.",
					members: n.pathFields.map((f) => ({ decl: memberDecl(f, n.field(f)), doc: f.doc })),
				},
				{ kind: "variable", decl: "int libcheck_async_context_size", init: `sizeof(struct ${n.contextTag})` },
			],
		});
	}
	if (n.mapFields.length > 0) sections.push({ items: mapContextItems(n) });
	if (n.multiState) sections.push({ items: stepMachineItems(n) });
	sections.push({ items: byteOrderHelpers(m, n) });
	sections.push({ items: transportItems(n) });
	sections.push({ items: decoderItems(n) });
	const checks = n.multiState ? stepMachineFunctions(n) : oneStateFunctions(n);
	const init: CItem[] = [];
	if (n.pathFields.length > 0 || m.init) {
		const withContext = n.pathFields.length > 0;
		init.push({
			kind: "function",
			isStatic: false,
			returns: "int",
			name: "libcheck_async_init",
			params: ["struct runner_data *rdata"],
			body: [
				...(withContext ? ([{ kind: "decl", decl: `struct ${n.contextTag} *ctx`, init: "(void *)rdata->checker_ctx" }] as CStmt[]) : []),
				...(m.init ? [checkDecl(n)] : []),
				{ kind: "blank" },
				...(withContext
					? ([
							{ kind: "expr", text: "memset(ctx, 0, sizeof(*ctx))" },
							...n.pathFields
								.filter((f) => f.init !== 0)
								.map((f): CStmt => ({ kind: "expr", text: `ctx->${n.field(f)} = ${f.type === "bool" ? "true" : f.init}` })),
						] as CStmt[])
					: []),
				...(m.init ? initRun(n) : []),
				{ kind: "return", value: "0" },
			],
		});
	}
	if (n.mapFields.length > 0 && target.mapInit) init.push(mpInitFunction(n));
	// libcheck_async_func comes last, after the init function
	const last = checks.filter((c) => c.kind === "function" && c.name === "libcheck_async_func");
	sections.push({ items: [...checks.filter((c) => !last.includes(c)), ...init, ...last] });
	if (n.t.diagnostics.length > 0) throw new SpecError(n.t.diagnostics);
	const withBuf = m.maxDataLength > 0;
	const one = !n.multiState;
	return {
		path: n.t.file,
		summary: one
			? `${m.name} checker: ${m.description}.\n\nOne check sends ${(m.states[0] as CommandStateModel).command?.name ?? "its command"} and classifies the answer with rules tried in order; the first match wins.`
			: `${m.name} checker: ${m.description}.\n\nThe check is a state machine; each state sends one SCSI command, or decides from the context, and classifies the result with rules tried in order; the first match wins.`,
		// O_DIRECT is a GNU extension of <fcntl.h> (upstream's directio.c defines it too)
		...(transportsOf(m).has("directRead") ? { featureMacros: ["_GNU_SOURCE"] } : {}),
		systemIncludes: systemIncludes(m, n),
		localIncludes: [
			"checkers.h",
			...(withBuf || logs(m) ? ["debug.h"] : []),
			"sg_include.h",
			...(target.byteOrder === "unaligned" && (m.decoders.length > 0 || [...allocationSizes(m)].some((x) => x > 1)) ? ["unaligned.h"] : []),
			"sg_answer.h",
			"async_checker.h",
		],
		sections,
	};
}

/** The system headers the file's C uses, in upstream's order. */
function systemIncludes(m: CheckerModel, n: CheckerNames): string[] {
	const withBuf = m.maxDataLength > 0;
	const conditions = m.states.flatMap((s) => s.rules.flatMap((r) => r.conditions));
	const errnoNames = conditions.some((c) => c.fact.kind === "errno" && c.written.some((w) => w.symbol));
	const retries = m.states.some((s) => s.rules.some((r) => r.outcome.kind === "retry"));
	const bools = m.context.some((f) => f.type === "bool") || m.decoders.length > 0;
	// libcheck_mp_init allocates the map context
	const mpInit = n.mapFields.length > 0 && n.target.mapInit;
	const senseKeys = conditions.some((c) => c.fact.kind === "senseKey");
	const scsiNames = [...n.cdbSymbols.values()].some((s) => s.header === "scsi/scsi.h");
	const pthread = n.multiState || retries || withBuf;
	const transports = transportsOf(m);
	const helpers = transports.has("cciss") || transports.has("directRead");
	const string =
		helpers ||
		n.pathFields.length > 0 ||
		m.decoders.length > 0 ||
		sendsDataReadEarlier(m) ||
		m.states.some((s) => s.kind === "command" && s.command.payload?.from === "zeros");
	// NULL (the msgtable's end) comes with pthread.h (through time.h),
	// stdlib.h and string.h; a checker that includes none of them (one
	// state, no retry, no data, no context) needs stddef.h
	const stddef = !pthread && !withBuf && !string;
	return [
		...(errnoNames || helpers ? ["errno.h"] : []),
		...(transports.has("directRead") ? ["fcntl.h"] : []),
		...(m.decoders.some(usesUintMax) ? ["limits.h"] : []),
		...(pthread ? ["pthread.h"] : []),
		...(bools ? ["stdbool.h"] : []),
		...(stddef ? ["stddef.h"] : []),
		...(withBuf || mpInit ? ["stdlib.h"] : []),
		...(string ? ["string.h"] : []),
		...(transports.has("directRead") ? ["unistd.h"] : []),
		...(transports.has("cciss") ? ["sys/ioctl.h"] : []),
		...(withBuf || logs(m) ? ["sys/sysmacros.h"] : []),
		// dev_t of struct runner_data (0.15's async_checker.h leaves it to its includers)
		"sys/types.h",
		...(senseKeys || scsiNames ? ["scsi/scsi.h"] : []),
		...(transports.has("cciss") ? ["linux/cciss_ioctl.h"] : []),
	];
}

/** Whether some outcome logs (an init's done, or the goto a done becomes at the first check). */
function logs(m: CheckerModel): boolean {
	return m.states.some((s) =>
		s.rules.some((r) => {
			const f = r.outcome.kind === "retry" ? r.outcome.exhausted : r.outcome;
			return f !== null && f.kind !== "report" && f.log !== undefined;
		}),
	);
}

function clampedFields(m: CheckerModel): Set<ContextFieldModel> {
	const out = new Set<ContextFieldModel>();
	const visit = (list: readonly AssignmentModel[]) => {
		for (const a of list) {
			const v = a.value;
			if (v.kind === "dataBytes" || v.kind === "contextBytes") continue;
			if (a.field.type !== "bool" && (v.kind === "const" ? v.value : v.max) > a.field.max) out.add(a.field);
		}
	};
	for (const s of m.states) {
		if (s.kind === "command") for (const st of s.decoder?.store ?? []) visit(st.assignments);
		for (const r of s.rules) {
			const o = r.outcome;
			visit(o.assignments);
			if (o.kind === "retry" && o.exhausted) visit(o.exhausted.assignments);
		}
	}
	return out;
}
