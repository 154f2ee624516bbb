// The agent's version, as published in every birth message: the package's own.
import pkg from "../package.json" with { type: "json" };

export const AGENT_VERSION: string = pkg.version;
