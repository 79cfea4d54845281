// deno task bench's Powertools function: the logger and metrics, created at
// import as their docs show, logging and publishing a metric per invocation.
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import type { Context } from "aws-lambda";

const logger = new Logger({ serviceName: "bench" });
const metrics = new Metrics({ namespace: "bench", serviceName: "bench" });

export function handler(event: unknown, context: Context) {
  logger.addContext(context);
  logger.info("invoked", { event });
  metrics.addMetric("invocations", MetricUnit.Count, 1);
  metrics.publishStoredMetrics();
  return { requestId: context.awsRequestId };
}
