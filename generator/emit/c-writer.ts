// Small helpers that write C in upstream multipath-tools style by
// construction: tabs, 79 columns, kernel braces, comments wrapped by hand
// (the formatter's ReflowComments is off upstream), long conditions broken
// after an operator and aligned after "if (" the way clang-format does it.

export const COLUMN_LIMIT = 79;
export const TAB = 8;

/** The display width of a line, tabs expanded to 8 columns. */
export function width(line: string): number {
	let col = 0;
	for (const ch of line) col = ch === "\t" ? (Math.floor(col / TAB) + 1) * TAB : col + 1;
	return col;
}

/** Whitespace reaching `column` as clang-format's UseTab: Always writes it. */
export function padTo(column: number): string {
	return "\t".repeat(Math.floor(column / TAB)) + " ".repeat(column % TAB);
}

export function indent(level: number): string {
	return "\t".repeat(level);
}

/** Words of `text` filled into lines of at most `max` columns after `prefix`. */
function fill(text: string, prefix: string): string[] {
	const out: string[] = [];
	for (const para of text.split(/\n\s*\n/)) {
		let line = "";
		for (const word of para.split(/\s+/).filter(Boolean)) {
			const next = line === "" ? word : `${line} ${word}`;
			if (line !== "" && width(prefix + next) > COLUMN_LIMIT) {
				out.push(prefix + line);
				line = word;
			} else line = next;
		}
		if (line !== "") out.push(prefix + line);
		out.push(prefix.trimEnd());
	}
	out.pop();
	return out;
}

/**
 * A block comment at `level` tabs: one line when it fits, else the
 * multi-line form with " * " prefixes.
 */
export function comment(text: string, level: number): string[] {
	const ind = indent(level);
	const one = `${ind}/* ${text.replace(/\s+/g, " ").trim()} */`;
	if (!text.includes("\n\n") && width(one) <= COLUMN_LIMIT) return [one];
	return [`${ind}/*`, ...fill(text, `${ind} * `), `${ind} */`];
}

/**
 * `head` followed by `terms` joined with `op`, closed by `tail`; broken after
 * an operator when too long, continuation lines aligned at `alignColumn`.
 */
export function joinWrapped(head: string, terms: string[], op: string, tail: string, alignColumn: number): string[] {
	const lines: string[] = [];
	let line = head;
	terms.forEach((term, i) => {
		const last = i === terms.length - 1;
		const piece = term + (last ? tail : op === "," ? "," : ` ${op}`);
		const candidate = line === head || line.endsWith(padTo(alignColumn)) ? line + piece : `${line} ${piece}`;
		if (width(candidate) <= COLUMN_LIMIT || line === head || line === padTo(alignColumn)) {
			line = candidate;
		} else {
			lines.push(line);
			line = padTo(alignColumn) + piece;
		}
	});
	lines.push(line);
	return lines;
}

/** `if (a && b)` at `level`, wrapped; terms containing `||` get parentheses. */
export function ifCondition(terms: string[], level: number): string[] {
	const ind = indent(level);
	const wrapped = terms.map((t) => (terms.length > 1 && / \|\| /.test(t) ? `(${t})` : t));
	return joinWrapped(`${ind}if (`, wrapped, "&&", ")", width(ind) + 4);
}

/** Shows a C string literal for `text`. */
export function cString(text: string): string {
	return JSON.stringify(text);
}

export function hex(value: number, digits = 2): string {
	return `0x${value.toString(16).padStart(digits, "0")}`;
}
