// Sending what the state machine answered.
import type { FastifyReply } from 'fastify';
import type { Reply } from '../session/machine.js';
import { failureError, JSON_CONTENT_TYPE, sendError } from './http-errors.js';

export function sendMachineReply(reply: FastifyReply, answer: Reply, onSessionEndpoint: boolean): FastifyReply {
  if (answer.kind === 'fail') return sendError(reply, failureError(answer.failure, onSessionEndpoint));
  reply.code(answer.status);
  if (answer.body === undefined) return reply.send();
  return reply.type(JSON_CONTENT_TYPE).send(answer.body);
}
