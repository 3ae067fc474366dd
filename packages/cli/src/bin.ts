#!/usr/bin/env node
// The AWS SDK release pinned for Node 20 warns on every start that later releases need Node 22; the
// CLI is supported on Node 20, so the note is noise for its users (library users still see it once).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { run } = await import('./commands.js');

process.exitCode = await run(process.argv.slice(2));
