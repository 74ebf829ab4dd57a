// arm64 executables on an x64 machine: qemu-user through binfmt_misc, as
// Debian's qemu-user-static and binfmt-support provide it.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { arch } from 'node:os';

const BINFMT = '/proc/sys/fs/binfmt_misc';

function run(command: string, args: string[]): string | undefined {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  return result.status === 0 ? undefined : `${command} ${args.join(' ')}: ${(result.stderr || result.error?.message || `exit ${result.status}`).trim()}`;
}

/**
 * Registers qemu-aarch64 with the kernel if it is not already, and returns why
 * it cannot be, or undefined when arm64 executables run. The registration is
 * system configuration, like containers.conf, and is left in place: its F flag
 * (the interpreter opened once, at registration) lets it work inside containers.
 */
export function ensureArm64Emulation(): string | undefined {
  if (arch() === 'arm64') return undefined;
  if (!existsSync(`${BINFMT}/status`)) {
    const failed = run('mount', ['-t', 'binfmt_misc', 'binfmt_misc', BINFMT]);
    if (failed) return `cannot mount binfmt_misc, so qemu-user cannot be registered here (${failed})`;
  }
  const entry = `${BINFMT}/qemu-aarch64`;
  if (!existsSync(entry) || !readFileSync(entry, 'utf8').startsWith('enabled')) {
    const failed = run('update-binfmts', ['--enable', 'qemu-aarch64']);
    if (failed) return `cannot register qemu-aarch64 with binfmt_misc here (${failed})`;
  }
  const flags = /^flags: (\S*)$/m.exec(readFileSync(entry, 'utf8'))?.[1] ?? '';
  if (!flags.includes('F')) return `qemu-aarch64 is registered without the F flag: its interpreter cannot be found inside a container`;
  return undefined;
}
