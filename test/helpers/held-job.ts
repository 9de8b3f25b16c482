import type { Job } from "../../relay/src/store/relay-store.js";

/** The job a claim returned, as the lease the store's calls must name; a missing one fails the test here. */
export function held(job: Job | undefined): Job {
  if (!job) throw new Error("expected a claimed job, the claim returned none");
  return job;
}
