// Ends a run with the plain closing line CI reads ("N passed, N failed, N skipped"), after
// vitest's own report.
import type { Reporter } from 'vitest/reporters';

interface TaskLike {
  type: string;
  mode?: string;
  result?: { state?: string };
  tasks?: TaskLike[];
}

export default class SummaryReporter implements Reporter {
  onFinished(files: TaskLike[] = [], errors: unknown[] = []): void {
    const counts = { passed: 0, failed: 0, skipped: 0 };
    const visit = (task: TaskLike): void => {
      if (task.tasks) task.tasks.forEach(visit);
      // A file or suite that failed as a whole (its setup threw) counts as a failure too.
      if (task.type !== 'test') {
        if (task.result?.state === 'fail' && !task.tasks?.some((t) => t.result?.state === 'fail')) counts.failed++;
        return;
      }
      const state = task.result?.state;
      if (state === 'pass') counts.passed++;
      else if (state === 'fail') counts.failed++;
      else counts.skipped++;
    };
    files.forEach(visit);
    counts.failed += errors.length;
    console.log(`\n${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`);
  }
}
