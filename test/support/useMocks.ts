// The mock monitor of a whole test file (setupMocks), its recordings cleared before each test.
import { beforeAll, beforeEach } from "vitest";
import { MockOptions, MockRecorder, setupMocks } from "./pulumi-mocks";

/** Call at a test file's top level; the recorder fills in once the file's tests start. */
export function useMocks(opts?: MockOptions): MockRecorder {
  const recorder = {} as MockRecorder;
  beforeAll(async () => {
    // The recorder's arrays and maps are cleared in place, so the copied references stay the live ones.
    Object.assign(recorder, await setupMocks(opts));
  });
  beforeEach(() => recorder.clear());
  return recorder;
}
