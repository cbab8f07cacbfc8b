import type { z } from 'zod';
import {
  federatedFriendRequestJson, friendDeviceJson, friendListJson, friendRequestJson, remoteUserSummaryJson, userSummaryJson,
} from './json-mappers.js';
import { RestError } from './problems.js';
import { directoryCall, type RestDeps } from './rest-deps.js';
import type { RequestContext, RouteSpec } from './route.js';
import {
  AnsweredFriendRequestResponse, CreatedFriendRequestResponse, CreateFriendRequestRequest, FriendDevicesResponse,
  FriendListResponse, FriendRequestListResponse, PutFriendsRequest, QueuedFederatedFriendRequestResponse,
} from './schemas.js';

/**
 * `{id}` of a friend request may be `user@domain`: split at the last `@`. Our own domain (any
 * case) or an empty one means local and is stripped; another domain is passed on as it is, and
 * directory decides (with federation) whether that domain is one we federate with.
 */
export function friendTarget(id: string, domain: string): string {
  const at = id.lastIndexOf('@');
  if (at < 0) return id;
  const host = id.slice(at + 1);
  return host.length === 0 || host.toLowerCase() === domain.toLowerCase() ? id.slice(0, at) : id;
}

export function friendRoutes(deps: RestDeps): RouteSpec[] {
  const get: RouteSpec = {
    method: 'GET', path: '/api/friends', operationId: 'getFriends', summary: 'The caller\'s friend list and the devices of mutual friends',
    auth: 'session',
    success: { 200: { description: 'friend list', schema: FriendListResponse } },
    problems: [],
    async handle({ session }: RequestContext) {
      return { status: 200, body: friendListJson(await directoryCall(deps, 'getFriends', { userId: session!.userId })) };
    },
  };

  const put: RouteSpec = {
    method: 'PUT', path: '/api/friends', operationId: 'putFriends', summary: 'Replace the caller\'s friend list (`handle` accepted and ignored, `alias: null` = none)',
    auth: 'session',
    body: { kind: 'json', schema: PutFriendsRequest },
    success: { 200: { description: 'the stored list', schema: FriendListResponse } },
    problems: [],
    async handle({ session, body }: RequestContext<z.infer<typeof PutFriendsRequest>>) {
      const seen = new Set<string>();
      const friends = body.friends.map((f, i) => {
        const userId = f.user_id.trim();
        if (userId.length === 0) throw RestError.of('invalid-field', `friends[${i}].user_id: must not be empty`);
        if (seen.has(userId)) throw RestError.of('invalid-field', `friends[${i}].user_id: duplicate ${userId}`);
        seen.add(userId);
        const alias = f.alias?.trim();
        return alias ? { userId, alias } : { userId };
      });
      return { status: 200, body: friendListJson(await directoryCall(deps, 'putFriends', { userId: session!.userId, friends })) };
    },
  };

  const devicesOf: RouteSpec = {
    method: 'GET', path: '/api/friends/{id}/devices', decodeParams: true, operationId: 'friendDevices',
    summary: 'Devices of a mutual friend (user id or handle); 404 unless both list each other',
    auth: 'session',
    success: { 200: { description: 'the friend\'s devices', schema: FriendDevicesResponse } },
    problems: ['not-found', 'invalid-path'],
    async handle({ session, params }: RequestContext) {
      const res = await directoryCall(deps, 'friendDevicesOf', { userId: session!.userId, friend: params.id! });
      return { status: 200, body: { friend: res.friendUserId, devices: res.devices.map(friendDeviceJson) } };
    },
  };

  const remove: RouteSpec = {
    method: 'DELETE', path: '/api/friends/{id}', decodeParams: true, operationId: 'removeFriend',
    summary: 'Remove a user (id or handle) from the caller\'s list; the other list is untouched',
    auth: 'session',
    success: { 204: { description: 'removed' } },
    problems: ['not-found', 'invalid-path'],
    async handle({ session, params }: RequestContext) {
      await directoryCall(deps, 'removeFriend', { userId: session!.userId, friend: params.id! });
      return { status: 204 };
    },
  };

  const requests: RouteSpec = {
    method: 'GET', path: '/api/friends/requests', operationId: 'listFriendRequests', summary: 'Pending incoming and all outgoing friend requests, newest first',
    auth: 'session',
    success: { 200: { description: 'requests', schema: FriendRequestListResponse } },
    problems: [],
    async handle({ session }: RequestContext) {
      const res = await directoryCall(deps, 'listFriendRequests', { userId: session!.userId });
      return { status: 200, body: { incoming: res.incoming.map(friendRequestJson), outgoing: res.outgoing.map(friendRequestJson) } };
    },
  };

  const createRequest: RouteSpec = {
    method: 'POST', path: '/api/friends/requests/{id}', decodeParams: true, operationId: 'createFriendRequest',
    summary: 'Ask a user to be friends: a local one (id, handle, or handle@this-domain), or handle@domain of a federated domain',
    auth: 'session',
    body: { kind: 'json', schema: CreateFriendRequestRequest, optional: true },
    success: {
      201: { description: 'request to a local user created (or re-opened)', schema: CreatedFriendRequestResponse },
      202: { description: 'request to a user of another domain stored and queued for that domain', schema: QueuedFederatedFriendRequestResponse },
    },
    problems: ['not-found', 'conflict', 'unknown-domain', 'invalid-path'],
    async handle({ session, params, body }: RequestContext<z.infer<typeof CreateFriendRequestRequest>>) {
      const target = friendTarget(params.id!, deps.domain);
      const res = await directoryCall(deps, 'createFriendRequest', { userId: session!.userId, target, ...(body.message ? { message: body.message } : {}) });
      if (res.federationDomain !== undefined) {
        return { status: 202, body: federatedFriendRequestJson(res.request!, res.federatedSelf ?? res.request!.fromUserId, res.federationDomain) };
      }
      return { status: 201, body: { request: friendRequestJson(res.request!), to_user: userSummaryJson(res.other) } };
    },
  };

  const answer = (accept: boolean): RouteSpec => ({
    method: 'POST', path: `/api/friends/requests/{id}/${accept ? 'accept' : 'reject'}`, decodeParams: true,
    operationId: accept ? 'acceptFriendRequest' : 'rejectFriendRequest',
    summary: `${accept ? 'Accept' : 'Reject'} the pending request from {id} (user id, handle, or handle@domain of another domain)`,
    auth: 'session',
    success: { 200: { description: 'the answered request', schema: AnsweredFriendRequestResponse } },
    problems: ['not-found', 'conflict', 'unknown-domain', 'invalid-path'],
    async handle({ session, params }: RequestContext) {
      const res = await directoryCall(deps, 'answerFriendRequest', { userId: session!.userId, requester: friendTarget(params.id!, deps.domain), accept });
      // A remote requester has no profile here: its id is all the summary holds.
      const fromUser = res.federationDomain !== undefined ? remoteUserSummaryJson(res.request!.fromUserId) : userSummaryJson(res.other);
      return { status: 200, body: { request: friendRequestJson(res.request!), from_user: fromUser } };
    },
  });

  // Literal paths before templated ones so /api/friends/requests is never read as a friend id.
  return [get, put, requests, devicesOf, createRequest, answer(true), answer(false), remove];
}
