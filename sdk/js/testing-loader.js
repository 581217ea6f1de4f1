// Module resolution for testing.js: the contract's imports resolve to the test doubles.
const DOUBLES = { host: "./testing-host.js", database: "./testing-database.js" };

export async function resolve(specifier, context, next) {
  const match = /^confiture:plugin\/(host|database)@/.exec(specifier);
  if (match) return { url: new URL(DOUBLES[match[1]], import.meta.url).href, shortCircuit: true };
  return next(specifier, context);
}
