/**
 * The overload test's floor: a fastify server that refuses every inference request from its headers,
 * before the body is read (as Modelplane refuses under overload), with a v2 error body of the same
 * shape and no model. Loaded by the same open-loop generator at the same rate on the same CPUs, it
 * measures what a refusal costs on this machine and harness alone: the kernel's loopback, the event
 * loop reaching the socket, and the generator's own turn to read the answer.
 *   node --import tsx bench/baselines/refuse-only-server.ts PORT
 */
import Fastify from 'fastify';

const [port = '0'] = process.argv.slice(2);
const app = Fastify();

const refuse = async (_request: unknown, reply: import('fastify').FastifyReply) => {
  await reply.code(503).send({ error: 'request timed out in the queue before it could be scheduled' });
};
// The handler never runs: every request is answered from onRequest, before its body is read.
app.post('/v2/models/:model/infer', { onRequest: refuse }, async () => ({}));

const url = await app.listen({ host: '127.0.0.1', port: Number(port) });
console.log(`LISTENING ${url}`);
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
