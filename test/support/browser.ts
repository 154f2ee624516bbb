// Headless Chromium for the web view's tests and bench: Debian's /usr/bin/chromium driven by
// puppeteer-core (no browser download). Skips with a printed reason when chromium is missing, and fails
// instead when K3SF_REQUIRE_TOOLS is set (CI).
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import puppeteer, { type Browser } from "puppeteer-core";
import { toolAvailable } from "./tools.ts";

export const CHROMIUM = "/usr/bin/chromium";

/** Where test runs save their screenshots (git-ignored). */
export const SCREENSHOTS = fileURLToPath(new URL("../../test-output/web/", import.meta.url));

export function chromiumAvailable(): boolean {
  return toolAvailable("chromium", "chromium");
}

export async function launchBrowser(): Promise<Browser> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  return puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Root in a container: Chromium's sandbox needs user namespaces it may not have.
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
}
