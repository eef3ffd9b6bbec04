import { memoryTrendCheck } from '../../../src/checks/memory/memory-trend.js';
import { memoryUsageCheck } from '../../../src/checks/memory/memory-usage.js';
import { oomHistoryCheck } from '../../../src/checks/memory/oom-history.js';
import { describeEvaluations } from '../../helpers/fixtures.js';

describeEvaluations([memoryUsageCheck, oomHistoryCheck, memoryTrendCheck]);
