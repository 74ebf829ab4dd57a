// Small child programs for the init-mode tests, and how to find pause's child.
import { childrenOf, exeOf, waitFor } from './process.ts';
import { missingCommands } from './requires.ts';

export { exeOf };

/**
 * A perl program that catches every signal a process can catch (1..64 but
 * KILL, STOP and glibc's own 32 and 33) and prints `ROLE PID got N` for each,
 * after `ROLE PID ready` once all handlers are in place. With the argument
 * `fork` it first forks a copy of itself (role `grandchild`) into the same
 * process group. perl's handlers run between opcodes ("safe signals"); its
 * sleep is interrupted by each signal, so each is reported at once.
 */
export const REPORTER = String.raw`
use strict; use Config;
$| = 1;
my $role = 'child';
if (($ARGV[0] // '') eq 'fork') {
  my $pid = fork; die "fork: $!" unless defined $pid;
  $role = 'grandchild' if $pid == 0;
}
my @names = split ' ', $Config{sig_name};
my @numbers = split ' ', $Config{sig_num};
for my $i (0 .. $#names) {
  my ($name, $n) = ($names[$i], $numbers[$i]);
  next if $n == 0 || $n == 9 || $n == 19 || $n == 32 || $n == 33 || $name =~ /^(IOT|CLD|POLL)$/;
  $SIG{$name} = sub { print "$role $$ got $n\n" };
}
print "$role $$ ready\n";
sleep 1 while 1;
`;

/** The pid that `ROLE PID ready` announced in the output, once it is there. */
export function readyPid(output: string, role = 'child'): number | undefined {
  const match = new RegExp(`^${role} (\\d+) ready$`, 'm').exec(output);
  return match ? Number(match[1]) : undefined;
}

/** Waits for the single child of `parent` to have exec'd an executable whose path ends with `name`. */
export async function execedChild(parent: number, name: string): Promise<number> {
  return waitFor(`child of ${parent} running ${name}`, () => {
    const [child] = childrenOf(parent);
    return child !== undefined && exeOf(child)?.endsWith(`/${name}`) ? child : undefined;
  });
}

/** True when `name` is on PATH; see missingCommands for what happens when it is not. */
export function toolAvailable(name: string): boolean {
  return missingCommands([name]) === false;
}
