// The context fields a state reads or writes, from its model: what the
// lowering declares (ctx, the map's copy) and what the validator checks
// (an init state cannot use the map's context).
import type { AssignmentModel, CommandModel, ContextFieldModel, StateModel } from "./types.ts";

/** The context fields a command's CDB, data length or payload takes bytes from. */
export function commandUsesContext(cmd: CommandModel): ContextFieldModel[] {
	return [
		...(cmd.dataLength.kind === "context" ? [cmd.dataLength.field] : []),
		...cmd.cdb.flatMap((b) => (b.kind === "context" || b.kind === "contextByte" ? [b.field] : [])),
		...(cmd.payload?.bytes.flatMap((b) => (b.value.kind === "contextByte" ? [b.value.field] : [])) ?? []),
	];
}

/** The context fields a state's rules, command and decoder read or write (the path's and the map's). */
export function fieldsUsed(s: StateModel): Set<ContextFieldModel> {
	const out = new Set<ContextFieldModel>();
	const visit = (list: readonly AssignmentModel[]) => {
		for (const a of list) {
			out.add(a.field);
			if (a.value.kind === "context") out.add(a.value.field);
		}
	};
	for (const r of s.rules) {
		for (const c of r.conditions) if (c.fact.kind === "context") out.add(c.fact.field);
		const o = r.outcome;
		visit(o.assignments);
		const f = o.kind === "retry" ? o.exhausted : o;
		if (f) visit(f.assignments);
		if (f?.kind === "report" && f.messageValue?.kind === "context") out.add(f.messageValue.field);
	}
	if (s.kind === "command") {
		for (const f of commandUsesContext(s.command)) out.add(f);
		for (const i of s.decoder?.inputs ?? []) out.add(i.field);
		for (const st of s.decoder?.store ?? []) visit(st.assignments);
	}
	return out;
}
