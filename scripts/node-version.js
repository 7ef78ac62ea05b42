// Printed before the tests so every CI log shows which Node ran them (the action's runtime is Node 24).
const major = Number(process.versions.node.split('.')[0]);
console.log(`tests on Node ${process.version}`);
if (major < 24) {
  console.error(
    'manifest-merge runs on Node 24: run the tests through npm so node_modules/.bin/node is used.',
  );
  process.exit(1);
}
