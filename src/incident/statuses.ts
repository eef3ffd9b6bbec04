// Apart from the record's schema, so `incident --help` offers them without loading it.

/** Where an incident was first noticed: the runbook's Detection list, kept for the post-mortem. */
export const DETECTION_SOURCES = ['pagerduty', 'grafana', 'datadog', 'cloudwatch', 'customer', 'aegis-ir'] as const;

/** Where an open incident stands; `resolved` ends it. */
export const OPEN_STATUSES = ['investigating', 'identified', 'monitoring'] as const;
