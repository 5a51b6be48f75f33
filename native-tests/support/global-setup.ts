// Runs once before the test files: the Debian packages the native tests
// need. As root the missing ones are installed; otherwise the run stops with
// the exact apt-get command to run.
import { TREE_BUILD_PACKAGES, TREE_RUNTIME_PACKAGES } from "../tree/debian.ts";
import { ensureHostPackages, VM_HOST_PACKAGES } from "./host-packages.ts";

export const TEST_HOST_PACKAGES: readonly string[] = [
	...VM_HOST_PACKAGES,
	...TREE_BUILD_PACKAGES,
	...TREE_RUNTIME_PACKAGES,
	"clang-19",
	"clang-format-19",
	"lld-19",
	"libclang-rt-19-dev",
	"valgrind",
	"spin",
];

export default function setup(): void {
	ensureHostPackages(TEST_HOST_PACKAGES);
}
