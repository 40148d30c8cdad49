/**
 * OpenTelemetry tracing, off unless an OTLP endpoint is configured
 * (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, or `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`).
 * Off costs nothing: the SDK is not even imported. On: @envelop/opentelemetry makes one
 * span per GraphQL execution (operation name, type and document; never variables or
 * results), exported over OTLP/HTTP (JSON) by a batch processor with a bounded queue
 * (spans beyond it are dropped, not buffered without end). Sampling follows
 * `OTEL_TRACES_SAMPLER_ARG` (a ratio, default 1) and the caller's decision when a parent
 * exists. The provider is the plugin's own, not the global one: libraries that trace
 * through the global API stay silent instead of exporting a trace per call.
 */
import type { Plugin } from 'graphql-yoga';
import type { Logger } from './logger.ts';

export type Tracing = { plugin: Plugin; endpoint: string; shutdown(): Promise<void> };

/** The traces endpoint the environment names, if any. */
export function tracesEndpoint(env: NodeJS.ProcessEnv): string | undefined {
  if (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  if (env.OTEL_EXPORTER_OTLP_ENDPOINT) return `${env.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces`;
  return undefined;
}

/** @returns undefined when tracing is off. @throws Error for an invalid OTEL_TRACES_SAMPLER_ARG */
export async function createTracing(env: NodeJS.ProcessEnv, log: Logger): Promise<Tracing | undefined> {
  const endpoint = tracesEndpoint(env);
  if (!endpoint) return undefined;
  const ratio = env.OTEL_TRACES_SAMPLER_ARG === undefined ? 1 : Number(env.OTEL_TRACES_SAMPLER_ARG);
  if (!(ratio >= 0 && ratio <= 1)) throw new Error('OTEL_TRACES_SAMPLER_ARG must be a ratio between 0 and 1');
  const serviceName = env.OTEL_SERVICE_NAME ?? 'tastematch-gateway';
  const [{ useOpenTelemetry }, sdk, { OTLPTraceExporter }, { resourceFromAttributes }, { SpanKind }] =
    await Promise.all([
      import('@envelop/opentelemetry'),
      import('@opentelemetry/sdk-trace'),
      import('@opentelemetry/exporter-trace-otlp-http'),
      import('@opentelemetry/resources'),
      import('@opentelemetry/api'),
    ]);
  const provider = new sdk.TracerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName }),
    sampler: new sdk.ParentBasedSampler({ root: new sdk.TraceIdRatioBasedSampler(ratio) }),
    spanProcessors: [
      new sdk.BatchSpanProcessor({
        exporter: new OTLPTraceExporter({ url: endpoint, timeoutMillis: 5_000 }),
        maxQueueSize: 2048,
        maxExportBatchSize: 512,
        scheduledDelayMillis: 2_000,
      }),
    ],
  });
  log.info({ endpoint, ratio, serviceName }, 'OpenTelemetry tracing on');
  const plugin = useOpenTelemetry(
    { resolvers: false, variables: false, result: false, document: true },
    provider,
    SpanKind.SERVER,
    {},
    serviceName,
  ) as Plugin;
  return { plugin, endpoint, shutdown: () => provider.shutdown() };
}
