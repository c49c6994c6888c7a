/**
 * V8 flags of a process that runs the worker role, as `scripts/start.sh`, `npm start` and the
 * Dockerfile start it (a unit test keeps the four alike). A young generation of up to 32 MB per
 * semi-space instead of 16: the ~1,000 jobs a worker holds live long enough to survive two
 * scavenges of the smaller one and fill the old generation; measured on the 1-worker drain, peak
 * RSS 204–210 MB instead of 218–248 MB, throughput unchanged. An old generation limited to 512 MB
 * (against ~4 GB by default here) is grown by smaller steps between full collections: with
 * BENCH_ONLY=2,5 alternated on one machine, the drains' and the payments' workers peaked at
 * 181–211 MB against 210–247 MB without it, at the same speed.
 */
export const WORKER_NODE_ARGS = ['--max-semi-space-size=32', '--max-old-space-size=512'];

/**
 * V8 flags of every process without the worker role, as docker-compose.yml starts the api, bridge
 * and scheduler roles (a unit test keeps them alike), and of the bench's baselines. Since Node 22,
 * V8 sizes the young generation from the heap limit — up to 64 MB per semi-space on this machine,
 * where Node 20 stopped at 16 — and an api process in the flash sale then peaked at 268 MB instead
 * of ~160 MB for the same work: 16 MB is what these processes always ran with (with 32 an api's
 * peak rose by ~20 MB). The old generation's limit of 256 MB (against ~4 GB by default here) also
 * makes V8 grow it by smaller steps between full collections: flash-sale api processes peaked at
 * 174–199 MB against 202–214 MB without it, alternating runs on one machine; an api process holds
 * 20–60 MB of live objects under that load.
 */
export const API_NODE_ARGS = ['--max-semi-space-size=16', '--max-old-space-size=256'];
