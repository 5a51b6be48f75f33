// C names come from the model only: a context field with an acronym in its
// name is declared and referenced under the same identifier.
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { emit } from "../emit/index.ts";
import { initFormatter } from "../emit/format.ts";
import { loadSpec } from "../load.ts";

it("a spec with acronyms in its field names generates C that compiles", async () => {
	await initFormatter();
	const model = await loadSpec("native-tests/fixtures/good-specs/acronyms.ts");
	const c = emit([model], "0.15").get("0.15/libmultipath/checkers/acro.c")!;
	expect(c).toContain("unsigned char read_vpd_state;");
	expect(c).toContain("ctx->last_http_style_flag");
	const dir = join("build", "names");
	mkdirSync(dir, { recursive: true });
	writeFileSync(join(dir, "acro.c"), c);
	const g = "generated/0.15";
	const r = spawnSync("gcc", ["-std=gnu99", "-Wall", "-Wextra", "-Werror", "-D_GNU_SOURCE", `-I${g}/target-abi`, `-I${g}/libmpathutil`, `-I${g}/libmultipath`, `-I${g}/libmultipath/checkers`, "-fsyntax-only", join(dir, "acro.c")], { encoding: "utf8" });
	expect(r.stderr).toBe("");
	expect(r.status).toBe(0);
});
