// The Node floor: an executable built by the same build, from the same
// stripped Node, with the same execArgv as dist/pause, whose script does
// nothing. With any argument it exits (the floor of start-up); without, it
// stays alive the way pause does (the floor of memory, threads and wake-ups).
if (process.argv.length > 2) process.exit(0);
setInterval(() => {}, 2 ** 31 - 1);
