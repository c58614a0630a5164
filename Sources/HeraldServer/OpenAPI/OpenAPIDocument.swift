// The OpenAPI 3.1 description of Herald's HTTP API, served at GET /openapi.json.
// Keep it in step with the route files: a test compares the router's (method, path) list with `paths`.
enum OpenAPIDocument {
    static let json: String = #"""
        {
          "openapi": "3.1.0",
          "info": {
            "title": "Herald",
            "version": "0.1.0",
            "description": "Herald is a self-hosted notification service. An app defines event types (with templates per channel and locale), registers subscribers and topics, and triggers events; Herald plans one message per recipient and channel, applies preferences, and delivers them (in-app inbox, email, SMS, webhook, chat) with retries and an activity log. Flow control keeps the volume humane: an event type can suppress duplicates within a window (`dedup`), be rate-limited per subscriber (with tenant- and server-wide limits besides) and collect a subscriber's messages into digests; recurring schedules trigger events on a cron expression, and a trigger's `cancellation_key` lets a whole workflow's pending messages be cancelled at once.\n\nAuthentication: tenant routes take a tenant API key (`Authorization: Bearer hk_…`); operator routes (`/v1/tenants`) take the `HERALD_ADMIN_KEY` operator key; inbox routes (`/v1/inbox…`) take a subscriber token issued by `POST /v1/subscribers/{id}/token`, as a bearer token or `?token=`. `/healthz`, `/readyz` and `/openapi.json` are public, and so is `/unsubscribe`, whose signed `token` is its own authority. The email providers' bounce and complaint webhooks (`/hooks/email/…`) take no key either: each is verified with the provider's own signature or credentials. The admin console (`/console`) signs in with a tenant key once and then calls the tenant routes with an HTTP-only session cookie; with the cookie, every request that changes something must carry the session's CSRF token in `X-CSRF-Token` (403 `csrf-refused` otherwise). `/embed/herald.js` (the web components), `/console` and `/preferences` (the preference centre behind a signed link) are browser pages and assets, not API operations.\n\nErrors are RFC 9457 `application/problem+json` documents; validation errors list each field and the reason. Lists page with `limit` and an opaque `cursor` and return `{\"data\": [...], \"next_cursor\": \"...\"}`. Times are RFC 3339 in UTC.\n\nEach tenant API key and each subscriber token has a request limit (by default 10,000 a second for a key, 20 a second for a token, with bursts); over it, the answer is 429 `too-many-requests` with `Retry-After` in seconds."
          },
          "servers": [
            {
              "url": "http://127.0.0.1:8080"
            }
          ],
          "tags": [
            {
              "name": "Operations",
              "description": "Liveness, readiness and this description."
            },
            {
              "name": "Operator",
              "description": "Tenant management with the operator key."
            },
            {
              "name": "Tenant",
              "description": "The calling tenant and its API keys."
            },
            {
              "name": "Settings",
              "description": "The tenant's delivery settings: email (sender, SMTP server, layout, allowed recipient domains), chat webhooks and SMS providers, and webhook endpoints, signing secrets and delivery-status subscriptions; and notification rate limits over the server's."
            },
            {
              "name": "Event types",
              "description": "The catalog of events an app can trigger."
            },
            {
              "name": "Subscribers",
              "description": "Recipients and their inbox tokens."
            },
            {
              "name": "Preferences",
              "description": "Per-subscriber and tenant-wide on/off rules."
            },
            {
              "name": "Topics",
              "description": "Named lists of subscribers for fan-out."
            },
            {
              "name": "Events",
              "description": "Triggers and the events they create."
            },
            {
              "name": "Schedules",
              "description": "Recurring triggers: a cron expression on a time zone's clock and the event it triggers."
            },
            {
              "name": "Messages",
              "description": "The activity log and retries."
            },
            {
              "name": "Inbox",
              "description": "A subscriber's in-app inbox, with a subscriber token."
            },
            {
              "name": "Unsubscribe",
              "description": "The unsubscribe link in every email (RFC 8058 one-click), with no login."
            },
            {
              "name": "Email",
              "description": "The suppression list: addresses that bounced or complained. Bounces and complaints reach Herald at its inbound SMTP listener (`email.inbound`), through each email's signed VERP return path."
            },
            {
              "name": "Tracking",
              "description": "Tracked email links and open pixels, with no login: the signed token in the path is the authority."
            }
          ],
          "security": [
            {
              "tenantKey": []
            }
          ],
          "paths": {
            "/healthz": {
              "get": {
                "operationId": "getHealth",
                "summary": "Liveness check",
                "tags": [
                  "Operations"
                ],
                "description": "Answers as long as the process can serve HTTP; it does not touch the database.",
                "security": [],
                "responses": {
                  "200": {
                    "description": "The process is up.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Health"
                        }
                      }
                    }
                  }
                }
              }
            },
            "/readyz": {
              "get": {
                "operationId": "getReadiness",
                "summary": "Readiness check",
                "tags": [
                  "Operations"
                ],
                "description": "Checks the database and, if this process runs a dispatcher (role `all` or `worker`), that its heartbeat is recent; reports the node's role and the queue depth.",
                "security": [],
                "responses": {
                  "200": {
                    "description": "The database answers and, when this process runs one, the dispatcher is alive.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Readiness"
                        }
                      }
                    }
                  },
                  "503": {
                    "description": "Not ready: the database is unreachable or the dispatcher has not started or has stalled.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Readiness"
                        }
                      }
                    }
                  }
                }
              }
            },
            "/openapi.json": {
              "get": {
                "operationId": "getOpenAPIDocument",
                "summary": "This API description",
                "tags": [
                  "Operations"
                ],
                "security": [],
                "responses": {
                  "200": {
                    "description": "The OpenAPI 3.1 document.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "type": "object"
                        }
                      }
                    }
                  }
                }
              }
            },
            "/v1/tenants": {
              "post": {
                "operationId": "createTenant",
                "summary": "Create a tenant",
                "tags": [
                  "Operator"
                ],
                "description": "Creates a tenant and issues its first API key. Operator only: requires `HERALD_ADMIN_KEY`; answers 403 when the server has no admin key configured.",
                "security": [
                  {
                    "adminKey": []
                  }
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/CreateTenantRequest"
                      }
                    }
                  }
                },
                "responses": {
                  "201": {
                    "description": "The tenant and its first API key. The key's secret is shown only in this response.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/CreatedTenant"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "413": {
                    "$ref": "#/components/responses/ContentTooLarge"
                  },
                  "422": {
                    "$ref": "#/components/responses/UnprocessableContent"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                }
              },
              "get": {
                "operationId": "listTenants",
                "summary": "List tenants",
                "tags": [
                  "Operator"
                ],
                "description": "Operator only: requires `HERALD_ADMIN_KEY`.",
                "security": [
                  {
                    "adminKey": []
                  }
                ],
                "responses": {
                  "200": {
                    "description": "Every tenant.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/TenantList"
                        }
                      }
                    }
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                }
              }
            },
            "/v1/tenant": {
              "get": {
                "operationId": "getCurrentTenant",
                "summary": "The calling tenant",
                "tags": [
                  "Tenant"
                ],
                "security": [
                  {
                    "tenantKey": []
                  }
                ],
                "responses": {
                  "200": {
                    "description": "The tenant the API key belongs to.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Tenant"
                        }
                      }
                    }
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                }
              }
            },
            "/v1/api-keys": {
              "get": {
                "operationId": "listAPIKeys",
                "summary": "List API keys",
                "tags": [
                  "Tenant"
                ],
                "security": [
                  {
                    "tenantKey": []
                  }
                ],
                "responses": {
                  "200": {
                    "description": "The tenant's keys, revoked ones included; secrets are never shown.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/APIKeyList"
                        }
                      }
                    }
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                }
              },
              "post": {
                "operationId": "createAPIKey",
                "summary": "Create an API key",
                "tags": [
                  "Tenant"
                ],
                "security": [
                  {
                    "tenantKey": []
                  }
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/CreateAPIKeyRequest"
                      }
                    }
                  },
                  "description": "Send `{}` for an unnamed key."
                },
                "responses": {
                  "201": {
                    "description": "The new key. Its secret is shown only in this response and stored only as a hash.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/IssuedAPIKey"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "413": {
                    "$ref": "#/components/responses/ContentTooLarge"
                  },
                  "422": {
                    "$ref": "#/components/responses/UnprocessableContent"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                }
              }
            },
            "/v1/api-keys/{id}": {
              "delete": {
                "operationId": "revokeAPIKey",
                "summary": "Revoke an API key",
                "tags": [
                  "Tenant"
                ],
                "security": [
                  {
                    "tenantKey": []
                  }
                ],
                "parameters": [
                  {
                    "name": "id",
                    "in": "path",
                    "required": true,
                    "description": "The API key's id (`key_…`), as listed by `GET /v1/api-keys`.",
                    "schema": {
                      "type": "string"
                    },
                    "example": "key_01hx3k9m2a"
                  }
                ],
                "responses": {
                  "204": {
                    "description": "Revoked; the key no longer authenticates."
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "422": {
                    "$ref": "#/components/responses/UnprocessableContent"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                }
              }
            },
            "/v1/event-types": {
              "get": {
                "operationId": "listEventTypes",
                "summary": "List event types",
                "tags": [
                  "Event types"
                ],
                "security": [
                  {
                    "tenantKey": []
                  }
                ],
                "responses": {
                  "200": {
                    "description": "The tenant's catalog: `herald.yml` types merged with the tenant's own overrides.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/EventTypeList"
                        }
                      }
                    }
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                }
              }
            },
            "/v1/event-types/{key}": {
              "get": {
                "operationId": "getEventType",
                "summary": "Get an event type",
                "tags": [
                  "Event types"
                ],
                "security": [
                  {
                    "tenantKey": []
                  }
                ],
                "parameters": [
                  {
                    "name": "key",
                    "in": "path",
                    "required": true,
                    "description": "The event type's key.",
                    "schema": {
                      "type": "string"
                    },
                    "example": "payment_due"
                  }
                ],
                "responses": {
                  "200": {
                    "description": "The event type.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/EventType"
                        }
                      }
                    }
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "422": {
                    "$ref": "#/components/responses/UnprocessableContent"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                }
              },
              "put": {
                "operationId": "putEventType",
                "summary": "Define or replace an event type",
                "tags": [
                  "Event types"
                ],
                "description": "Stores the tenant's version of an event type after checking every template against the declared parameters. The body's `key` may be omitted; if given it must match the URL. Its `attachments` may exceed the usual body size limit by their base64.",
                "security": [
                  {
                    "tenantKey": []
                  }
                ],
                "parameters": [
                  {
                    "name": "key",
                    "in": "path",
                    "required": true,
                    "description": "The event type's key.",
                    "schema": {
                      "type": "string"
                    },
                    "example": "payment_due"
                  }
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/EventType"
                      }
                    }
                  }
                },
                "responses": {
                  "200": {
                    "description": "Replaced an event type the tenant already had.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/EventType"
                        }
                      }
                    }
                  },
                  "201": {
                    "description": "Defined a new event type for this tenant.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/EventType"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "413": {
                    "$ref": "#/components/responses/ContentTooLarge"
                  },
                  "422": {
                    "$ref": "#/components/responses/UnprocessableContent"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                }
              },
              "delete": {
                "operationId": "deleteEventType",
                "summary": "Delete an event type",
                "tags": [
                  "Event types"
                ],
                "security": [
                  {
                    "tenantKey": []
                  }
                ],
                "parameters": [
                  {
                    "name": "key",
                    "in": "path",
                    "required": true,
                    "description": "The event type's key.",
                    "schema": {
                      "type": "string"
                    },
                    "example": "payment_due"
                  }
                ],
                "responses": {
                  "204": {
                    "description": "Deleted. A type defined in `herald.yml` is hidden for this tenant."
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "422": {
                    "$ref": "#/components/responses/UnprocessableContent"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                }
              }
            },
            "/v1/event-types/{key}/preview": {
              "post": {
                "operationId": "previewEventType",
                "summary": "Preview an event type's templates",
                "tags": [
                  "Event types"
                ],
                "description": "Renders every channel's template as a subscriber with `locale` would receive it. Declared parameters the payload leaves out get sample values (returned as `payload`). The email channel comes back finished: `subject`, `html` inside the tenant's layout with the unsubscribe link, and `text` (generated from the HTML when the template has none). Nothing is sent.",
                "security": [
                  {
                    "tenantKey": []
                  }
                ],
                "parameters": [
                  {
                    "name": "key",
                    "in": "path",
                    "required": true,
                    "description": "The event type's key.",
                    "schema": {
                      "type": "string"
                    },
                    "example": "payment_due"
                  }
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/PreviewRequest"
                      }
                    }
                  },
                  "description": "Send `{}` to render with an empty payload and the default locale."
                },
                "responses": {
                  "200": {
                    "description": "Each channel's rendered parts.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Preview"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "413": {
                    "$ref": "#/components/responses/ContentTooLarge"
                  },
                  "422": {
                    "$ref": "#/components/responses/UnprocessableContent"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                }
              }
            },
            "/v1/subscribers": {
              "get": {
                "operationId": "listSubscribers",
                "summary": "List subscribers",
                "tags": [
                  "Subscribers"
                ],
                "security": [
                  {
                    "tenantKey": []
                  }
                ],
                "parameters": [
                  {
                    "$ref": "#/components/parameters/Cursor"
                  },
                  {
                    "name": "limit",
                    "in": "query",
                    "required": false,
                    "description": "The most items to return (1 to 1000; default 50).",
                    "schema": {
                      "type": "integer",
                      "minimum": 1,
                      "maximum": 1000,
                      "default": 50
                    }
                  }
                ],
                "responses": {
                  "200": {
                    "description": "One page of subscribers.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/SubscriberPage"
                        }
                      }
                    }
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "422": {
                    "$ref": "#/components/responses/UnprocessableContent"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                }
              }
            },
            "/v1/subscribers/{id}": {
              "put": {
                "operationId": "upsertSubscriber",
                "summary": "Create or update a subscriber",
                "tags": [
                  "Subscribers"
                ],
                "description": "Absent fields keep their stored values. The body's `id` may be omitted; if given it must match the URL.",
                "security": [
                  {
                    "tenantKey": []
                  }
                ],
                "parameters": [
                  {
                    "name": "id",
                    "in": "path",
                    "required": true,
                    "description": "The subscriber's id: the app's own identifier for the user.",
                    "schema": {
                      "type": "string"
                    },
                    "example": "u_42"
                  }
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/SubscriberInput"
                      }
                    }
                  }
                },
                "responses": {
                  "200": {
                    "description": "Updated an existing subscriber.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Subscriber"
                        }
                      }
                    }
                  },
                  "201": {
                    "description": "Created the subscriber.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Subscriber"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "413": {
                    "$ref": "#/components/responses/ContentTooLarge"
                  },
                  "422": {
                    "$ref": "#/components/responses/UnprocessableContent"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                }
              },
              "get": {
                "operationId": "getSubscriber",
                "summary": "Get a subscriber",
                "tags": [
                  "Subscribers"
                ],
                "security": [
                  {
                    "tenantKey": []
                  }
                ],
                "parameters": [
                  {
                    "name": "id",
                    "in": "path",
                    "required": true,
                    "description": "The subscriber's id: the app's own identifier for the user.",
                    "schema": {
                      "type": "string"
                    },
                    "example": "u_42"
                  }
                ],
                "responses": {
                  "200": {
                    "description": "The subscriber.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Subscriber"
                        }
                      }
                    }
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "422": {
                    "$ref": "#/components/responses/UnprocessableContent"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                }
              },
              "delete": {
                "operationId": "deleteSubscriber",
                "summary": "Delete a subscriber",
                "tags": [
                  "Subscribers"
                ],
                "security": [
                  {
                    "tenantKey": []
                  }
                ],
                "parameters": [
                  {
                    "name": "id",
                    "in": "path",
                    "required": true,
                    "description": "The subscriber's id: the app's own identifier for the user.",
                    "schema": {
                      "type": "string"
                    },
                    "example": "u_42"
                  }
                ],
                "responses": {
                  "204": {
                    "description": "Deleted."
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "422": {
                    "$ref": "#/components/responses/UnprocessableContent"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                }
              }
            },
            "/v1/subscribers/{id}/preferences": {
              "get": {
                "operationId": "getSubscriberPreferences",
                "summary": "Get a subscriber's preferences",
                "tags": [
                  "Preferences"
                ],
                "security": [
                  {
                    "tenantKey": []
                  }
                ],
                "parameters": [
                  {
                    "name": "id",
                    "in": "path",
                    "required": true,
                    "description": "The subscriber's id: the app's own identifier for the user.",
                    "schema": {
                      "type": "string"
                    },
                    "example": "u_42"
                  }
                ],
                "responses": {
                  "200": {
                    "description": "The subscriber's own rules and the effective answer for every event type and channel.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/SubscriberPreferences"
                        }
                      }
                    }
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "422": {
                    "$ref": "#/components/responses/UnprocessableContent"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                }
              },
              "put": {
                "operationId": "replaceSubscriberPreferences",
                "summary": "Replace a subscriber's preferences",
                "tags": [
                  "Preferences"
                ],
                "description": "Replaces all of the subscriber's rules with the ones given.",
                "security": [
                  {
                    "tenantKey": []
                  }
                ],
                "parameters": [
                  {
                    "name": "id",
                    "in": "path",
                    "required": true,
                    "description": "The subscriber's id: the app's own identifier for the user.",
                    "schema": {
                      "type": "string"
                    },
                    "example": "u_42"
                  }
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/PreferenceRules"
                      }
                    }
                  }
                },
                "responses": {
                  "200": {
                    "description": "The preferences after the change.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/SubscriberPreferences"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "413": {
                    "$ref": "#/components/responses/ContentTooLarge"
                  },
                  "422": {
                    "$ref": "#/components/responses/UnprocessableContent"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                }
              },
              "patch": {
                "operationId": "updateSubscriberPreferences",
                "summary": "Merge into a subscriber's preferences",
                "tags": [
                  "Preferences"
                ],
                "description": "Adds the given rules, replacing any existing rule for the same event type and channel; other rules stay.",
                "security": [
                  {
                    "tenantKey": []
                  }
                ],
                "parameters": [
                  {
                    "name": "id",
                    "in": "path",
                    "required": true,
                    "description": "The subscriber's id: the app's own identifier for the user.",
                    "schema": {
                      "type": "string"
                    },
                    "example": "u_42"
                  }
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/PreferenceRules"
                      }
                    }
                  }
                },
                "responses": {
                  "200": {
                    "description": "The preferences after the change.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/SubscriberPreferences"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "413": {
                    "$ref": "#/components/responses/ContentTooLarge"
                  },
                  "422": {
                    "$ref": "#/components/responses/UnprocessableContent"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                }
              }
            },
            "/v1/subscribers/{id}/token": {
              "post": {
                "operationId": "issueSubscriberToken",
                "summary": "Issue an inbox token",
                "tags": [
                  "Subscribers"
                ],
                "description": "Issues a signed token that lets a browser read and update this subscriber's in-app inbox, and nothing else. The body is optional; the default lifetime is one day.",
                "security": [
                  {
                    "tenantKey": []
                  }
                ],
                "parameters": [
                  {
                    "name": "id",
                    "in": "path",
                    "required": true,
                    "description": "The subscriber's id: the app's own identifier for the user.",
                    "schema": {
                      "type": "string"
                    },
                    "example": "u_42"
                  }
                ],
                "requestBody": {
                  "required": false,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/SubscriberTokenRequest"
                      }
                    }
                  }
                },
                "responses": {
                  "201": {
                    "description": "A signed token for this subscriber's inbox.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/SubscriberToken"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "413": {
                    "$ref": "#/components/responses/ContentTooLarge"
                  },
                  "422": {
                    "$ref": "#/components/responses/UnprocessableContent"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                }
              }
            },
            "/v1/preferences/defaults": {
              "get": {
                "operationId": "getTenantPreferenceDefaults",
                "summary": "Get the tenant's preference defaults",
                "tags": [
                  "Preferences"
                ],
                "security": [
                  {
                    "tenantKey": []
                  }
                ],
                "responses": {
                  "200": {
                    "description": "The tenant-wide rules that apply to every subscriber unless the subscriber's own rules say otherwise.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/PreferenceRules"
                        }
                      }
                    }
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                }
              },
              "put": {
                "operationId": "replaceTenantPreferenceDefaults",
                "summary": "Replace the tenant's preference defaults",
                "tags": [
                  "Preferences"
                ],
                "security": [
                  {
                    "tenantKey": []
                  }
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/PreferenceRules"
                      }
                    }
                  }
                },
                "responses": {
                  "200": {
                    "description": "The tenant's rules after the change.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/PreferenceRules"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "413": {
                    "$ref": "#/components/responses/ContentTooLarge"
                  },
                  "422": {
                    "$ref": "#/components/responses/UnprocessableContent"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                }
              }
            },
            "/v1/topics": {
              "get": {
                "operationId": "listTopics",
                "summary": "List topics",
                "tags": [
                  "Topics"
                ],
                "security": [
                  {
                    "tenantKey": []
                  }
                ],
                "parameters": [
                  {
                    "$ref": "#/components/parameters/Cursor"
                  },
                  {
                    "name": "limit",
                    "in": "query",
                    "required": false,
                    "description": "The most items to return (1 to 1000; default 50).",
                    "schema": {
                      "type": "integer",
                      "minimum": 1,
                      "maximum": 1000,
                      "default": 50
                    }
                  }
                ],
                "responses": {
                  "200": {
                    "description": "One page of topics.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/TopicPage"
                        }
                      }
                    }
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "422": {
                    "$ref": "#/components/responses/UnprocessableContent"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                }
              }
            },
            "/v1/topics/{key}": {
              "put": {
                "operationId": "upsertTopic",
                "summary": "Create or rename a topic",
                "tags": [
                  "Topics"
                ],
                "security": [
                  {
                    "tenantKey": []
                  }
                ],
                "parameters": [
                  {
                    "name": "key",
                    "in": "path",
                    "required": true,
                    "description": "The topic's key: 1 to 128 letters, digits, `-`, `_`, `:` or `.`.",
                    "schema": {
                      "type": "string"
                    },
                    "example": "residents"
                  }
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/TopicInput"
                      }
                    }
                  },
                  "description": "Send `{}` for a topic without a display name."
                },
                "responses": {
                  "200": {
                    "description": "The topic.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Topic"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "413": {
                    "$ref": "#/components/responses/ContentTooLarge"
                  },
                  "422": {
                    "$ref": "#/components/responses/UnprocessableContent"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                }
              },
              "get": {
                "operationId": "getTopic",
                "summary": "Get a topic",
                "tags": [
                  "Topics"
                ],
                "security": [
                  {
                    "tenantKey": []
                  }
                ],
                "parameters": [
                  {
                    "name": "key",
                    "in": "path",
                    "required": true,
                    "description": "The topic's key: 1 to 128 letters, digits, `-`, `_`, `:` or `.`.",
                    "schema": {
                      "type": "string"
                    },
                    "example": "residents"
                  }
                ],
                "responses": {
                  "200": {
                    "description": "The topic with its member count.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Topic"
                        }
                      }
                    }
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "422": {
                    "$ref": "#/components/responses/UnprocessableContent"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                }
              },
              "delete": {
                "operationId": "deleteTopic",
                "summary": "Delete a topic",
                "tags": [
                  "Topics"
                ],
                "security": [
                  {
                    "tenantKey": []
                  }
                ],
                "parameters": [
                  {
                    "name": "key",
                    "in": "path",
                    "required": true,
                    "description": "The topic's key: 1 to 128 letters, digits, `-`, `_`, `:` or `.`.",
                    "schema": {
                      "type": "string"
                    },
                    "example": "residents"
                  }
                ],
                "responses": {
                  "204": {
                    "description": "Deleted, with its memberships; the subscribers remain."
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "422": {
                    "$ref": "#/components/responses/UnprocessableContent"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                }
              }
            },
            "/v1/topics/{key}/subscribers": {
              "get": {
                "operationId": "listTopicSubscribers",
                "summary": "List a topic's members",
                "tags": [
                  "Topics"
                ],
                "security": [
                  {
                    "tenantKey": []
                  }
                ],
                "parameters": [
                  {
                    "name": "key",
                    "in": "path",
                    "required": true,
                    "description": "The topic's key: 1 to 128 letters, digits, `-`, `_`, `:` or `.`.",
                    "schema": {
                      "type": "string"
                    },
                    "example": "residents"
                  },
                  {
                    "$ref": "#/components/parameters/Cursor"
                  },
                  {
                    "name": "limit",
                    "in": "query",
                    "required": false,
                    "description": "The most items to return (1 to 1000; default 100).",
                    "schema": {
                      "type": "integer",
                      "minimum": 1,
                      "maximum": 1000,
                      "default": 100
                    }
                  }
                ],
                "responses": {
                  "200": {
                    "description": "One page of member subscriber ids.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/TopicMemberPage"
                        }
                      }
                    }
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "422": {
                    "$ref": "#/components/responses/UnprocessableContent"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                }
              },
              "post": {
                "operationId": "addTopicSubscribers",
                "summary": "Add members to a topic",
                "tags": [
                  "Topics"
                ],
                "description": "Adds up to 10,000 members per request: ids of existing subscribers, or subscriber objects (with `id`) that are created or updated first. An unknown id is a 422 and nothing is added.",
                "security": [
                  {
                    "tenantKey": []
                  }
                ],
                "parameters": [
                  {
                    "name": "key",
                    "in": "path",
                    "required": true,
                    "description": "The topic's key: 1 to 128 letters, digits, `-`, `_`, `:` or `.`.",
                    "schema": {
                      "type": "string"
                    },
                    "example": "residents"
                  }
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/TopicMembersAddRequest"
                      }
                    }
                  }
                },
                "responses": {
                  "200": {
                    "description": "How many subscribers were newly added (existing members are not counted).",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/TopicMembersAdded"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "413": {
                    "$ref": "#/components/responses/ContentTooLarge"
                  },
                  "422": {
                    "$ref": "#/components/responses/UnprocessableContent"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                }
              },
              "delete": {
                "operationId": "removeTopicSubscribers",
                "summary": "Remove members from a topic",
                "tags": [
                  "Topics"
                ],
                "description": "Takes a JSON body listing the subscriber ids to remove.",
                "security": [
                  {
                    "tenantKey": []
                  }
                ],
                "parameters": [
                  {
                    "name": "key",
                    "in": "path",
                    "required": true,
                    "description": "The topic's key: 1 to 128 letters, digits, `-`, `_`, `:` or `.`.",
                    "schema": {
                      "type": "string"
                    },
                    "example": "residents"
                  }
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/TopicMembersRequest"
                      }
                    }
                  }
                },
                "responses": {
                  "200": {
                    "description": "How many subscribers were removed.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/TopicMembersRemoved"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "413": {
                    "$ref": "#/components/responses/ContentTooLarge"
                  },
                  "422": {
                    "$ref": "#/components/responses/UnprocessableContent"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                }
              }
            },
            "/v1/events": {
              "post": {
                "operationId": "triggerEvent",
                "summary": "Trigger an event",
                "tags": [
                  "Events"
                ],
                "description": "Validates the trigger against its event type and stores it; delivery happens asynchronously. With an `Idempotency-Key`, repeating the same request returns the first receipt, and reusing the key for a different body is a 409. A trigger may carry `attachments` for its emails: inline base64 or URLs fetched once, now; what is refused (size, type, name, address) is a 422 naming the file's field. The body may exceed the usual size limit by the files' base64 (1.5 × `email.max_attachments_bytes`); a few such large bodies are handled at once, and one more is answered 429 with `Retry-After`.",
                "security": [
                  {
                    "tenantKey": []
                  }
                ],
                "parameters": [
                  {
                    "$ref": "#/components/parameters/IdempotencyKey"
                  }
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/Trigger"
                      }
                    }
                  }
                },
                "responses": {
                  "202": {
                    "description": "Accepted and durable. Direct recipients' messages are planned; topics fan out afterwards.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/TriggerReceipt"
                        }
                      }
                    },
                    "headers": {
                      "Idempotent-Replayed": {
                        "$ref": "#/components/headers/IdempotentReplayed"
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "409": {
                    "$ref": "#/components/responses/Conflict"
                  },
                  "413": {
                    "$ref": "#/components/responses/ContentTooLarge"
                  },
                  "422": {
                    "$ref": "#/components/responses/UnprocessableContent"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                }
              },
              "get": {
                "operationId": "listEvents",
                "summary": "List events",
                "tags": [
                  "Events"
                ],
                "description": "The tenant's events, newest first, optionally of one event type.",
                "security": [
                  {
                    "tenantKey": []
                  }
                ],
                "parameters": [
                  {
                    "name": "type",
                    "in": "query",
                    "required": false,
                    "description": "Only events of this event type.",
                    "schema": {
                      "type": "string"
                    }
                  },
                  {
                    "name": "cursor",
                    "in": "query",
                    "required": false,
                    "description": "`next_cursor` from the previous page.",
                    "schema": {
                      "type": "string"
                    }
                  },
                  {
                    "name": "limit",
                    "in": "query",
                    "required": false,
                    "description": "Page size, 1 to 1000.",
                    "schema": {
                      "type": "integer",
                      "minimum": 1,
                      "maximum": 1000,
                      "default": 50
                    }
                  }
                ],
                "responses": {
                  "200": {
                    "description": "One page of events.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/EventPage"
                        }
                      }
                    }
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "422": {
                    "$ref": "#/components/responses/UnprocessableContent"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                }
              },
              "delete": {
                "operationId": "cancelEventsByKey",
                "summary": "Cancel a workflow by its cancellation key",
                "tags": [
                  "Events"
                ],
                "description": "Cancels every pending message of the tenant's events triggered with this `cancellation_key`: messages not yet sent, pending topic fan-out, and items in digests still collecting. Messages already sent are unaffected. A key that matches nothing answers 200 with no events.",
                "security": [
                  {
                    "tenantKey": []
                  }
                ],
                "parameters": [
                  {
                    "name": "cancellation_key",
                    "in": "query",
                    "required": true,
                    "description": "The key given in the triggers (1 to 255 characters).",
                    "schema": {
                      "type": "string",
                      "minLength": 1,
                      "maxLength": 255
                    },
                    "example": "invoice-42-reminders"
                  }
                ],
                "responses": {
                  "200": {
                    "description": "The events cancelled and how many messages were stopped.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/CancellationResult"
                        }
                      }
                    }
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "422": {
                    "$ref": "#/components/responses/UnprocessableContent"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                }
              }
            },
            "/v1/events/bulk": {
              "post": {
                "operationId": "triggerEvents",
                "summary": "Trigger events in bulk",
                "tags": [
                  "Events"
                ],
                "description": "Up to 1,000 triggers in one transaction: all are accepted or none are, and the 422 names each bad one (`events[3].payload.amount`). The body may be up to ten times the usual size limit. Its triggers may carry `attachments`, one trigger's worth in all (1.5 × `email.max_attachments_bytes` of base64 beyond the body limit, and 10 URLs fetched).",
                "security": [
                  {
                    "tenantKey": []
                  }
                ],
                "parameters": [
                  {
                    "$ref": "#/components/parameters/IdempotencyKey"
                  }
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/BulkTriggerRequest"
                      }
                    }
                  }
                },
                "responses": {
                  "202": {
                    "description": "Every trigger was accepted, in order.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/TriggerReceiptList"
                        }
                      }
                    },
                    "headers": {
                      "Idempotent-Replayed": {
                        "$ref": "#/components/headers/IdempotentReplayed"
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "409": {
                    "$ref": "#/components/responses/Conflict"
                  },
                  "413": {
                    "$ref": "#/components/responses/ContentTooLarge"
                  },
                  "422": {
                    "$ref": "#/components/responses/UnprocessableContent"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                }
              }
            },
            "/v1/events/cancel": {
              "post": {
                "operationId": "cancelEventsByKeyInBody",
                "summary": "Cancel a workflow by its cancellation key (key in the body)",
                "tags": [
                  "Events"
                ],
                "description": "The same as `DELETE /v1/events?cancellation_key=…`, for clients that cannot send a DELETE or would rather not put the key in a URL.",
                "security": [
                  {
                    "tenantKey": []
                  }
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "type": "object",
                        "additionalProperties": false,
                        "required": [
                          "cancellation_key"
                        ],
                        "properties": {
                          "cancellation_key": {
                            "type": "string",
                            "minLength": 1,
                            "maxLength": 255,
                            "examples": [
                              "invoice-42-reminders"
                            ]
                          }
                        }
                      }
                    }
                  }
                },
                "responses": {
                  "200": {
                    "description": "The events cancelled and how many messages were stopped.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/CancellationResult"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "413": {
                    "$ref": "#/components/responses/ContentTooLarge"
                  },
                  "422": {
                    "$ref": "#/components/responses/UnprocessableContent"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                }
              }
            },
            "/v1/events/{id}": {
              "get": {
                "operationId": "getEvent",
                "summary": "Get an event",
                "tags": [
                  "Events"
                ],
                "security": [
                  {
                    "tenantKey": []
                  }
                ],
                "parameters": [
                  {
                    "name": "id",
                    "in": "path",
                    "required": true,
                    "description": "The event's id (`ev_…`), as returned in a trigger receipt.",
                    "schema": {
                      "type": "string"
                    },
                    "example": "ev_01hx3k9m2a"
                  },
                  {
                    "$ref": "#/components/parameters/Cursor"
                  },
                  {
                    "name": "limit",
                    "in": "query",
                    "required": false,
                    "description": "The most items to return (1 to 1000; default 100).",
                    "schema": {
                      "type": "integer",
                      "minimum": 1,
                      "maximum": 1000,
                      "default": 100
                    }
                  }
                ],
                "responses": {
                  "200": {
                    "description": "The event, its message counts by status and one page of its messages.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/EventDetails"
                        }
                      }
                    }
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "422": {
                    "$ref": "#/components/responses/UnprocessableContent"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                }
              },
              "delete": {
                "operationId": "cancelEvent",
                "summary": "Cancel an event",
                "tags": [
                  "Events"
                ],
                "description": "Cancels the event's messages that have not gone out yet; messages already sent are unaffected.",
                "security": [
                  {
                    "tenantKey": []
                  }
                ],
                "parameters": [
                  {
                    "name": "id",
                    "in": "path",
                    "required": true,
                    "description": "The event's id (`ev_…`), as returned in a trigger receipt.",
                    "schema": {
                      "type": "string"
                    },
                    "example": "ev_01hx3k9m2a"
                  }
                ],
                "responses": {
                  "200": {
                    "description": "How many messages were stopped before going out.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/CancelResult"
                        }
                      }
                    }
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "422": {
                    "$ref": "#/components/responses/UnprocessableContent"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                }
              }
            },
            "/v1/messages": {
              "get": {
                "operationId": "listMessages",
                "summary": "List messages (activity log)",
                "tags": [
                  "Messages"
                ],
                "description": "Every message (one recipient × one channel of an event) with its state, filtered by any combination of the query parameters.",
                "security": [
                  {
                    "tenantKey": []
                  }
                ],
                "parameters": [
                  {
                    "name": "event",
                    "in": "query",
                    "required": false,
                    "description": "Only messages of this event id.",
                    "schema": {
                      "type": "string"
                    }
                  },
                  {
                    "name": "subscriber",
                    "in": "query",
                    "required": false,
                    "description": "Only messages to this subscriber id.",
                    "schema": {
                      "type": "string"
                    }
                  },
                  {
                    "name": "channel",
                    "in": "query",
                    "required": false,
                    "description": "Only messages on this channel.",
                    "schema": {
                      "$ref": "#/components/schemas/Channel"
                    }
                  },
                  {
                    "name": "status",
                    "in": "query",
                    "required": false,
                    "description": "Only messages in this state.",
                    "schema": {
                      "$ref": "#/components/schemas/MessageStatus"
                    }
                  },
                  {
                    "name": "since",
                    "in": "query",
                    "required": false,
                    "description": "Only messages created at or after this RFC 3339 time.",
                    "schema": {
                      "type": "string",
                      "format": "date-time"
                    }
                  },
                  {
                    "name": "until",
                    "in": "query",
                    "required": false,
                    "description": "Only messages created before this RFC 3339 time.",
                    "schema": {
                      "type": "string",
                      "format": "date-time"
                    }
                  },
                  {
                    "$ref": "#/components/parameters/Cursor"
                  },
                  {
                    "name": "limit",
                    "in": "query",
                    "required": false,
                    "description": "The most items to return (1 to 1000; default 50).",
                    "schema": {
                      "type": "integer",
                      "minimum": 1,
                      "maximum": 1000,
                      "default": 50
                    }
                  }
                ],
                "responses": {
                  "200": {
                    "description": "One page of messages, newest first.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/MessagePage"
                        }
                      }
                    }
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "422": {
                    "$ref": "#/components/responses/UnprocessableContent"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                }
              }
            },
            "/v1/messages/{id}": {
              "get": {
                "operationId": "getMessage",
                "summary": "Get a message",
                "tags": [
                  "Messages"
                ],
                "security": [
                  {
                    "tenantKey": []
                  }
                ],
                "parameters": [
                  {
                    "name": "id",
                    "in": "path",
                    "required": true,
                    "description": "The message's id (`msg_` plus a number).",
                    "schema": {
                      "type": "string"
                    },
                    "example": "msg_1042"
                  }
                ],
                "responses": {
                  "200": {
                    "description": "The message and every delivery attempt.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/MessageWithAttempts"
                        }
                      }
                    }
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "422": {
                    "$ref": "#/components/responses/UnprocessableContent"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                }
              }
            },
            "/v1/messages/{id}/retry": {
              "post": {
                "operationId": "retryMessage",
                "summary": "Retry a failed message",
                "tags": [
                  "Messages"
                ],
                "description": "Requeues a `failed` or `dead_lettered` message; any other state is a 409.",
                "security": [
                  {
                    "tenantKey": []
                  }
                ],
                "parameters": [
                  {
                    "name": "id",
                    "in": "path",
                    "required": true,
                    "description": "The message's id (`msg_` plus a number).",
                    "schema": {
                      "type": "string"
                    },
                    "example": "msg_1042"
                  }
                ],
                "responses": {
                  "202": {
                    "description": "Requeued with a fresh attempt budget.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Message"
                        }
                      }
                    }
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "409": {
                    "$ref": "#/components/responses/Conflict"
                  },
                  "422": {
                    "$ref": "#/components/responses/UnprocessableContent"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                }
              }
            },
            "/v1/inbox": {
              "get": {
                "operationId": "listInbox",
                "summary": "List the inbox",
                "tags": [
                  "Inbox"
                ],
                "description": "The token's subscriber's in-app messages. Defaults to `active` (everything not archived).",
                "security": [
                  {
                    "subscriberToken": []
                  }
                ],
                "parameters": [
                  {
                    "name": "filter",
                    "in": "query",
                    "required": false,
                    "description": "Which items to show.",
                    "schema": {
                      "$ref": "#/components/schemas/InboxFilter",
                      "default": "active"
                    }
                  },
                  {
                    "name": "status",
                    "in": "query",
                    "required": false,
                    "description": "Alias of `filter`; `filter` wins when both are given.",
                    "schema": {
                      "$ref": "#/components/schemas/InboxFilter"
                    }
                  },
                  {
                    "$ref": "#/components/parameters/Cursor"
                  },
                  {
                    "name": "limit",
                    "in": "query",
                    "required": false,
                    "description": "The most items to return (1 to 100; default 20).",
                    "schema": {
                      "type": "integer",
                      "minimum": 1,
                      "maximum": 100,
                      "default": 20
                    }
                  },
                  {
                    "$ref": "#/components/parameters/SubscriberTokenQuery"
                  }
                ],
                "responses": {
                  "200": {
                    "description": "One page of in-app messages, newest first.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/InboxPage"
                        }
                      }
                    }
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "422": {
                    "$ref": "#/components/responses/UnprocessableContent"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                }
              }
            },
            "/v1/inbox/count": {
              "get": {
                "operationId": "getInboxCounts",
                "summary": "Inbox counts",
                "tags": [
                  "Inbox"
                ],
                "security": [
                  {
                    "subscriberToken": []
                  }
                ],
                "parameters": [
                  {
                    "$ref": "#/components/parameters/SubscriberTokenQuery"
                  }
                ],
                "responses": {
                  "200": {
                    "description": "The numbers a bell shows.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/InboxCounts"
                        }
                      }
                    }
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                }
              }
            },
            "/v1/inbox/read-all": {
              "post": {
                "operationId": "markInboxAllRead",
                "summary": "Mark everything read",
                "tags": [
                  "Inbox"
                ],
                "security": [
                  {
                    "subscriberToken": []
                  }
                ],
                "parameters": [
                  {
                    "$ref": "#/components/parameters/SubscriberTokenQuery"
                  }
                ],
                "responses": {
                  "200": {
                    "description": "The counts after the change.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/InboxCounts"
                        }
                      }
                    }
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                }
              }
            },
            "/v1/inbox/seen": {
              "post": {
                "operationId": "markInboxAllSeen",
                "summary": "Mark everything seen",
                "tags": [
                  "Inbox"
                ],
                "description": "Clears the unseen badge (for example when the bell is opened) without marking items read.",
                "security": [
                  {
                    "subscriberToken": []
                  }
                ],
                "parameters": [
                  {
                    "$ref": "#/components/parameters/SubscriberTokenQuery"
                  }
                ],
                "responses": {
                  "200": {
                    "description": "The counts after the change.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/InboxCounts"
                        }
                      }
                    }
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                }
              }
            },
            "/v1/inbox/{id}/read": {
              "post": {
                "operationId": "markInboxItemRead",
                "summary": "Mark one message read",
                "tags": [
                  "Inbox"
                ],
                "security": [
                  {
                    "subscriberToken": []
                  }
                ],
                "parameters": [
                  {
                    "name": "id",
                    "in": "path",
                    "required": true,
                    "description": "The in-app message's id (`msg_` plus a number). Another subscriber's message is not found.",
                    "schema": {
                      "type": "string"
                    },
                    "example": "msg_1042"
                  },
                  {
                    "$ref": "#/components/parameters/SubscriberTokenQuery"
                  }
                ],
                "responses": {
                  "200": {
                    "description": "The counts after the change.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/InboxCounts"
                        }
                      }
                    }
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "422": {
                    "$ref": "#/components/responses/UnprocessableContent"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                }
              }
            },
            "/v1/inbox/{id}/archive": {
              "post": {
                "operationId": "archiveInboxItem",
                "summary": "Archive one message",
                "tags": [
                  "Inbox"
                ],
                "security": [
                  {
                    "subscriberToken": []
                  }
                ],
                "parameters": [
                  {
                    "name": "id",
                    "in": "path",
                    "required": true,
                    "description": "The in-app message's id (`msg_` plus a number). Another subscriber's message is not found.",
                    "schema": {
                      "type": "string"
                    },
                    "example": "msg_1042"
                  },
                  {
                    "$ref": "#/components/parameters/SubscriberTokenQuery"
                  }
                ],
                "responses": {
                  "200": {
                    "description": "The counts after the change.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/InboxCounts"
                        }
                      }
                    }
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "422": {
                    "$ref": "#/components/responses/UnprocessableContent"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                }
              }
            },
            "/v1/subscribers/bulk": {
              "post": {
                "operationId": "upsertSubscribersBulk",
                "summary": "Create or update many subscribers",
                "tags": [
                  "Subscribers"
                ],
                "description": "Upserts up to 10,000 subscribers in one transaction: all of them, or none if any is invalid (the problem names each bad field as `subscribers[i].field`).",
                "security": [
                  {
                    "tenantKey": []
                  }
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/SubscriberBulkRequest"
                      }
                    }
                  }
                },
                "responses": {
                  "200": {
                    "description": "How many subscribers were created and how many updated.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/SubscriberBulkResult"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "413": {
                    "$ref": "#/components/responses/ContentTooLarge"
                  },
                  "422": {
                    "$ref": "#/components/responses/UnprocessableContent"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                }
              }
            },
            "/v1/settings/email": {
              "get": {
                "operationId": "getEmailSettings",
                "summary": "Get the tenant's email settings",
                "tags": [
                  "Settings"
                ],
                "description": "The stored settings (the SMTP password is never returned, only `********` when one is set) and the effective settings after the server's defaults.",
                "security": [
                  {
                    "tenantKey": []
                  }
                ],
                "responses": {
                  "200": {
                    "description": "The settings.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/EmailSettingsView"
                        }
                      }
                    }
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                }
              },
              "put": {
                "operationId": "replaceEmailSettings",
                "summary": "Replace the tenant's email settings",
                "tags": [
                  "Settings"
                ],
                "description": "Checks every field and answers a 422 naming each bad one (`smtp.port`, `allowed_recipient_domains[1]`, `layout.brand_color` …); nothing is stored unless all are valid. An SMTP password sent as `********` keeps the stored one, so a settings page can send back what it read. A read-only `effective` object in the body is ignored.",
                "security": [
                  {
                    "tenantKey": []
                  }
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/EmailSettings"
                      }
                    }
                  }
                },
                "responses": {
                  "200": {
                    "description": "The settings as stored.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/EmailSettingsView"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "413": {
                    "$ref": "#/components/responses/ContentTooLarge"
                  },
                  "422": {
                    "$ref": "#/components/responses/UnprocessableContent"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                }
              },
              "delete": {
                "operationId": "deleteEmailSettings",
                "summary": "Go back to the server's email defaults",
                "tags": [
                  "Settings"
                ],
                "security": [
                  {
                    "tenantKey": []
                  }
                ],
                "responses": {
                  "204": {
                    "description": "The tenant's settings are gone; the server's defaults apply."
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                }
              }
            },
            "/v1/settings/chat": {
              "get": {
                "operationId": "getChatSettings",
                "summary": "Get the tenant's chat webhooks",
                "tags": [
                  "Settings"
                ],
                "description": "The tenant's Slack, Microsoft Teams and Discord webhooks in failover order. Webhook URLs are secrets: each is shown as `https://host/********`.",
                "security": [
                  {
                    "tenantKey": []
                  }
                ],
                "responses": {
                  "200": {
                    "description": "The webhooks, redacted.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/ChatSettings"
                        }
                      }
                    }
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                }
              },
              "put": {
                "operationId": "replaceChatSettings",
                "summary": "Replace the tenant's chat webhooks",
                "tags": [
                  "Settings"
                ],
                "description": "Chat messages for subscribers without a webhook of their own (`data.chat_webhook_url`) go to the first of these webhooks that works: one that is down, rate limited (429), gone (404, 410) or no longer allowed (401, 403) passes the message to the next; one that refuses the message itself (400) ends it `failed`. Each webhook is checked and a 422 names each bad field (`webhooks[1].url`, `webhooks[0].provider`). `provider` may be left out for hosts Herald recognises (hooks.slack.com, discord.com, logic.azure.com, powerplatform.com, webhook.office.com). A URL sent back as read (`https://hooks.slack.com/********`) keeps the stored URL, so webhooks can be reordered or relabelled without knowing their secrets. An empty list is the same as DELETE.",
                "security": [
                  {
                    "tenantKey": []
                  }
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/ChatSettings"
                      }
                    }
                  }
                },
                "responses": {
                  "200": {
                    "description": "The webhooks as stored, redacted, each with its provider.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/ChatSettings"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "413": {
                    "$ref": "#/components/responses/ContentTooLarge"
                  },
                  "422": {
                    "$ref": "#/components/responses/UnprocessableContent"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                }
              },
              "delete": {
                "operationId": "deleteChatSettings",
                "summary": "Remove the tenant's chat webhooks",
                "tags": [
                  "Settings"
                ],
                "security": [
                  {
                    "tenantKey": []
                  }
                ],
                "responses": {
                  "204": {
                    "description": "The webhooks are gone; only subscribers with their own webhook get chat messages."
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                }
              }
            },
            "/v1/settings/sms": {
              "get": {
                "operationId": "getSMSSettings",
                "summary": "Get the tenant's SMS providers",
                "tags": [
                  "Settings"
                ],
                "description": "The stored providers (secrets shown only as `********`) and the effective settings after the server's defaults.",
                "security": [
                  {
                    "tenantKey": []
                  }
                ],
                "responses": {
                  "200": {
                    "description": "The settings.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/SMSSettingsView"
                        }
                      }
                    }
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                }
              },
              "put": {
                "operationId": "replaceSMSSettings",
                "summary": "Replace the tenant's SMS providers",
                "tags": [
                  "Settings"
                ],
                "description": "SMS messages go through the first provider that takes them. A provider that is down (timeout, 5xx, 429) or refuses this account (Twilio 20003 authentication, 21408 region not enabled, 401, 403) passes the message to the next; a refusal about the message itself (Twilio 21211 invalid number, 21610 unsubscribed, any other 400) ends it `failed` without trying the others. A provider whose circuit is open is skipped; when every provider's circuit is open the message waits without using up its attempts. Checks every field and answers a 422 naming each bad one (`providers[0].account_sid`, `max_segments`). A secret sent back as `********` keeps the stored one for the same account. A read-only `effective` object in the body is ignored.",
                "security": [
                  {
                    "tenantKey": []
                  }
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/SMSSettings"
                      }
                    }
                  }
                },
                "responses": {
                  "200": {
                    "description": "The settings as stored.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/SMSSettingsView"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "413": {
                    "$ref": "#/components/responses/ContentTooLarge"
                  },
                  "422": {
                    "$ref": "#/components/responses/UnprocessableContent"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                }
              },
              "delete": {
                "operationId": "deleteSMSSettings",
                "summary": "Go back to the server's SMS providers",
                "tags": [
                  "Settings"
                ],
                "security": [
                  {
                    "tenantKey": []
                  }
                ],
                "responses": {
                  "204": {
                    "description": "The tenant's settings are gone; the server's providers (if any) apply."
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                }
              }
            },
            "/v1/settings/webhook": {
              "get": {
                "operationId": "getWebhookSettings",
                "summary": "Get the tenant's webhook settings",
                "tags": [
                  "Settings"
                ],
                "description": "The webhook channel's endpoints (in failover order), the secrets that sign posts to subscribers' own `data.webhook_url`, and the status endpoints with the events each receives. Secrets are shown redacted (`whsec_AbCdEf********`). Each endpoint also shows its circuit (`closed`, `open`, `half_open`), and each status endpoint its queued, delivered and failed status webhooks; an endpoint that answered `410 Gone` shows `disabled_at` and `disabled_reason`.",
                "security": [
                  {
                    "tenantKey": []
                  }
                ],
                "responses": {
                  "200": {
                    "description": "The settings.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/WebhookSettingsView"
                        }
                      }
                    }
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                }
              },
              "put": {
                "operationId": "replaceWebhookSettings",
                "summary": "Replace the tenant's webhook settings",
                "tags": [
                  "Settings"
                ],
                "description": "Checks every field and answers a 422 naming each bad one (`endpoints[1].url`, `status_endpoints[0].events`, `endpoints[0].secrets[1]` …); nothing is stored unless all are valid. URLs must be http or https without credentials; an IP literal or `localhost` that the server's destination policy refuses (loopback, private, link-local … unless the operator allows it) is refused here, other names when sending. An endpoint given without `secrets` keeps the secrets stored for its URL, or gets a new one; `subscriber_secrets` left out keeps the stored ones, or gets a new one. A redacted secret sent back (as GET shows it) keeps the stored secret it stands for. The answer shows in full only the secrets given in full or generated by this request: keep them, they are not shown again. Several secrets on one endpoint mean several signatures on every request (key rotation). Read-only fields (`circuit`, `deliveries`) are ignored; sending `disabled_at` back keeps an endpoint disabled, leaving it out enables it again.",
                "security": [
                  {
                    "tenantKey": []
                  }
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/WebhookSettings"
                      }
                    }
                  }
                },
                "responses": {
                  "200": {
                    "description": "The settings as stored; new secrets in full, kept ones redacted.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/WebhookSettingsView"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "413": {
                    "$ref": "#/components/responses/ContentTooLarge"
                  },
                  "422": {
                    "$ref": "#/components/responses/UnprocessableContent"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                }
              },
              "delete": {
                "operationId": "deleteWebhookSettings",
                "summary": "Remove the tenant's webhook settings",
                "tags": [
                  "Settings"
                ],
                "description": "Endpoints, secrets and status endpoints are gone. Webhook messages then reach only subscribers with their own `data.webhook_url`, and fail until a new `subscriber_secrets` is set; queued status webhooks are given up.",
                "security": [
                  {
                    "tenantKey": []
                  }
                ],
                "responses": {
                  "204": {
                    "description": "The settings are gone."
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                }
              }
            },
            "/unsubscribe": {
              "get": {
                "operationId": "openUnsubscribeLink",
                "summary": "Unsubscribe from an event type's email (link in the email)",
                "tags": [
                  "Unsubscribe"
                ],
                "description": "Turns off email of the link's event type for its subscriber at once (a subscriber rule marked `unsubscribed`) and answers a page saying so, with a button that turns off all email. Never redirects. Critical event types still send: they bypass preferences.",
                "security": [],
                "parameters": [
                  {
                    "name": "token",
                    "in": "query",
                    "required": true,
                    "description": "The signed token from the email's link. It names the tenant, the subscriber and the event type; an altered token is refused.",
                    "schema": {
                      "type": "string"
                    }
                  }
                ],
                "responses": {
                  "200": {
                    "description": "The confirmation page.",
                    "content": {
                      "text/html": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "400": {
                    "description": "The token is missing, malformed, forged or altered; nothing changed. An HTML page when the client accepts `text/html`, else a problem naming `token`.",
                    "content": {
                      "text/html": {
                        "schema": {
                          "type": "string"
                        }
                      },
                      "application/problem+json": {
                        "schema": {
                          "$ref": "#/components/schemas/Problem"
                        }
                      }
                    }
                  },
                  "404": {
                    "description": "The subscriber the link was for no longer exists. An HTML page when the client accepts `text/html`, else a problem.",
                    "content": {
                      "text/html": {
                        "schema": {
                          "type": "string"
                        }
                      },
                      "application/problem+json": {
                        "schema": {
                          "$ref": "#/components/schemas/Problem"
                        }
                      }
                    }
                  }
                }
              },
              "post": {
                "operationId": "unsubscribeOneClick",
                "summary": "One-click unsubscribe (RFC 8058)",
                "tags": [
                  "Unsubscribe"
                ],
                "description": "What mail clients call for `List-Unsubscribe-Post: List-Unsubscribe=One-Click`. Any body is accepted. Turns off email of the link's event type, or all email when `scope=all` is in the query or the form body. Answers a small HTML page, never a redirect.",
                "security": [],
                "parameters": [
                  {
                    "name": "token",
                    "in": "query",
                    "required": true,
                    "description": "The signed token from the email's link. It names the tenant, the subscriber and the event type; an altered token is refused.",
                    "schema": {
                      "type": "string"
                    }
                  },
                  {
                    "name": "scope",
                    "in": "query",
                    "required": false,
                    "description": "`all` turns off every email from the tenant; otherwise only the link's event type.",
                    "schema": {
                      "type": "string",
                      "enum": [
                        "all"
                      ]
                    }
                  }
                ],
                "requestBody": {
                  "required": false,
                  "content": {
                    "application/x-www-form-urlencoded": {
                      "schema": {
                        "type": "object",
                        "properties": {
                          "List-Unsubscribe": {
                            "type": "string",
                            "const": "One-Click"
                          },
                          "scope": {
                            "type": "string",
                            "enum": [
                              "all"
                            ]
                          }
                        }
                      }
                    },
                    "multipart/form-data": {
                      "schema": {
                        "type": "object",
                        "properties": {
                          "List-Unsubscribe": {
                            "type": "string",
                            "const": "One-Click"
                          },
                          "scope": {
                            "type": "string",
                            "enum": [
                              "all"
                            ]
                          }
                        }
                      }
                    }
                  }
                },
                "responses": {
                  "200": {
                    "description": "The confirmation page.",
                    "content": {
                      "text/html": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "400": {
                    "description": "The token is missing, malformed, forged or altered; nothing changed. An HTML page when the client accepts `text/html`, else a problem naming `token`.",
                    "content": {
                      "text/html": {
                        "schema": {
                          "type": "string"
                        }
                      },
                      "application/problem+json": {
                        "schema": {
                          "$ref": "#/components/schemas/Problem"
                        }
                      }
                    }
                  },
                  "404": {
                    "description": "The subscriber the link was for no longer exists. An HTML page when the client accepts `text/html`, else a problem.",
                    "content": {
                      "text/html": {
                        "schema": {
                          "type": "string"
                        }
                      },
                      "application/problem+json": {
                        "schema": {
                          "$ref": "#/components/schemas/Problem"
                        }
                      }
                    }
                  },
                  "413": {
                    "$ref": "#/components/responses/ContentTooLarge"
                  },
                  "422": {
                    "$ref": "#/components/responses/UnprocessableContent"
                  }
                }
              }
            },
            "/v1/event-types/{key}/test": {
              "post": {
                "operationId": "sendTestEmail",
                "summary": "Send one test email now",
                "tags": [
                  "Event types"
                ],
                "description": "Renders the event type's email for `to` (an address) or `subscriber_id`, with the given payload filled with sample values, and sends it at once through the tenant's transport (its SMTP server, the server's, or the outbox), outside the queue. Answers the outcome, the server's reply and the SMTP transcript (credentials masked).",
                "security": [
                  {
                    "tenantKey": []
                  }
                ],
                "parameters": [
                  {
                    "name": "key",
                    "in": "path",
                    "required": true,
                    "description": "The event type's key.",
                    "schema": {
                      "type": "string"
                    },
                    "example": "payment_due"
                  }
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/TestEmailRequest"
                      }
                    }
                  }
                },
                "responses": {
                  "200": {
                    "description": "What the transport said. `outcome` is `accepted`, `transient_failure` or `permanent_failure`.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/TestEmailResult"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "413": {
                    "$ref": "#/components/responses/ContentTooLarge"
                  },
                  "422": {
                    "$ref": "#/components/responses/UnprocessableContent"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                }
              }
            },
            "/metrics": {
              "get": {
                "operationId": "metrics",
                "summary": "Prometheus metrics",
                "tags": [
                  "Operations"
                ],
                "description": "Prometheus text exposition (version 0.0.4): `herald_messages_total{channel,status,priority}` (outcomes the dispatcher committed; a retry counts as `queued`), `herald_delivery_attempt_duration_seconds{channel,outcome}` (histogram), `herald_events_total{priority}`, `herald_queue_depth{priority}`, `herald_fanout_jobs`, `herald_circuits_open{transport}` (open circuits by kind of transport: smtp, webhook, chat, sms), and HTTP request metrics (`hb_requests`, `http_server_request_duration`). Holds no tenant's data; open like /healthz. Counters start at zero when the process starts.",
                "security": [],
                "responses": {
                  "200": {
                    "description": "The exposition.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        },
                        "example": "# TYPE herald_messages_total counter\nherald_messages_total{channel=\"email\",status=\"sent\",priority=\"medium\"} 50\n"
                      }
                    }
                  }
                }
              }
            },
            "/v1/stats": {
              "get": {
                "operationId": "stats",
                "summary": "Delivery figures over a window",
                "tags": [
                  "Operations"
                ],
                "description": "The tenant's messages created in the window: sent (sent and delivered), failed (failed and dead-lettered), suppressed, pending, the success rate sent / (sent + failed), per event type and per channel, and the trigger → sent latency percentiles in milliseconds.",
                "security": [
                  {
                    "tenantKey": []
                  }
                ],
                "parameters": [
                  {
                    "name": "window",
                    "in": "query",
                    "required": false,
                    "description": "How far back: seconds (`3600`) or a duration (`15m`, `24h`, `7d`); at most 90 days. Default 24h.",
                    "schema": {
                      "type": "string"
                    },
                    "example": "24h"
                  }
                ],
                "responses": {
                  "200": {
                    "description": "The figures.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/DeliveryStats"
                        }
                      }
                    }
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "422": {
                    "$ref": "#/components/responses/UnprocessableContent"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                }
              }
            },
            "/v1/inbox/stream": {
              "get": {
                "operationId": "streamInbox",
                "summary": "Live inbox over Server-Sent Events",
                "tags": [
                  "Inbox"
                ],
                "description": "A `text/event-stream` of inbox updates for the token's subscriber. Each event has `id` (the stream position), `event` (`inbox.counts`, `message.created`, `message.read`, `message.archived`, `inbox.read_all`, `inbox.seen`) and `data` (an InboxUpdate as JSON). The first event is `inbox.counts`. Reconnecting with `Last-Event-ID` (or `?last_event_id=`) first sends every message delivered since that id. A comment line (`: heartbeat`) is sent every `inbox_heartbeat_seconds` (15 s). `EventSource` cannot set headers: pass the token as `?token=`.",
                "parameters": [
                  {
                    "name": "Last-Event-ID",
                    "in": "header",
                    "required": false,
                    "schema": {
                      "type": "string"
                    },
                    "description": "Resume after this event id."
                  },
                  {
                    "name": "last_event_id",
                    "in": "query",
                    "required": false,
                    "schema": {
                      "type": "string"
                    }
                  },
                  {
                    "name": "token",
                    "in": "query",
                    "required": false,
                    "schema": {
                      "type": "string"
                    },
                    "description": "Subscriber token, for clients that cannot send Authorization."
                  }
                ],
                "responses": {
                  "200": {
                    "description": "The stream.",
                    "content": {
                      "text/event-stream": {
                        "schema": {
                          "type": "object",
                          "description": "One event of the stream (Open API 3.1 describes each event): `inbox.counts`, `message.created`, `message.read`, `message.archived`, `inbox.read_all` or `inbox.seen`, with the update as JSON in `data`; comments (`: heartbeat`) keep the connection open.",
                          "properties": {
                            "id": {
                              "type": "string"
                            },
                            "event": {
                              "type": "string"
                            },
                            "data": {
                              "type": "string",
                              "contentMediaType": "application/json"
                            },
                            "retry": {
                              "type": "integer",
                              "minimum": 0
                            }
                          }
                        }
                      }
                    }
                  },
                  "401": {
                    "description": "No valid subscriber token."
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "422": {
                    "description": "Last-Event-ID is not an id this stream sent."
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                },
                "security": [
                  {
                    "subscriberToken": []
                  }
                ]
              }
            },
            "/v1/inbox/ws": {
              "get": {
                "operationId": "inboxWebSocket",
                "summary": "Live inbox over WebSocket",
                "tags": [
                  "Inbox"
                ],
                "description": "Upgrade to a WebSocket (`?token=` or a bearer token; `?after=` resumes like Last-Event-ID). The server sends each InboxUpdate as a JSON text frame, and pings every `inbox_heartbeat_seconds`. The client may send commands: `{\"type\":\"read\",\"message_id\":\"msg_1\"}`, `{\"type\":\"archive\",\"message_id\":…}`, `{\"type\":\"read_all\"}`, `{\"type\":\"seen\"}`, `{\"type\":\"click\",\"message_id\":…}` (the item's link was followed); a bad command gets `{\"type\":\"error\",\"status\":422,\"detail\":…,\"errors\":[…]}` and the connection stays open. A plain GET without the upgrade headers answers 426.",
                "parameters": [
                  {
                    "name": "token",
                    "in": "query",
                    "required": false,
                    "schema": {
                      "type": "string"
                    }
                  },
                  {
                    "name": "after",
                    "in": "query",
                    "required": false,
                    "schema": {
                      "type": "string"
                    }
                  }
                ],
                "responses": {
                  "101": {
                    "description": "Switching to the WebSocket protocol."
                  },
                  "401": {
                    "description": "No valid subscriber token."
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "426": {
                    "description": "Not a WebSocket upgrade request."
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                },
                "security": [
                  {
                    "subscriberToken": []
                  }
                ]
              }
            },
            "/v1/inbox/preferences": {
              "get": {
                "operationId": "getOwnPreferences",
                "summary": "The subscriber's own preference centre",
                "tags": [
                  "Inbox"
                ],
                "description": "What the `<herald-preferences>` component and the page behind a preference link show: every event type of the tenant grouped by category, each channel's effective on/off and which rule decided it, and the subscriber's time zone and quiet hours. Critical event types are listed with `critical: true` and `editable: false`: they always reach the subscriber. Takes a subscriber token, including the preferences-only token of the page behind a preference link (which the other inbox routes refuse with 403).",
                "security": [
                  {
                    "subscriberToken": []
                  }
                ],
                "parameters": [
                  {
                    "$ref": "#/components/parameters/SubscriberTokenQuery"
                  }
                ],
                "responses": {
                  "200": {
                    "description": "The subscriber's settings.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/PreferenceCentre"
                        }
                      }
                    }
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                }
              },
              "put": {
                "operationId": "updateOwnPreferences",
                "summary": "Change the subscriber's own preferences, time zone and quiet hours",
                "tags": [
                  "Inbox"
                ],
                "description": "Every field is optional and what is absent stays as it is. `rules` are merged into the subscriber's own rules (the same rules `GET /v1/subscribers/{id}/preferences` shows, at once); `timezone` and `quiet_hours` are stored on the subscriber (`\"quiet_hours\": null` removes them). A rule that turns off a critical event type is refused with 422 naming `rules[i].enabled`, as are unknown event types, channels the type does not use, unknown time zones and malformed quiet hours; nothing is written then. Answers the updated preference centre.",
                "security": [
                  {
                    "subscriberToken": []
                  }
                ],
                "parameters": [
                  {
                    "$ref": "#/components/parameters/SubscriberTokenQuery"
                  }
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/PreferenceCentreUpdate"
                      }
                    }
                  }
                },
                "responses": {
                  "200": {
                    "description": "The updated settings.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/PreferenceCentre"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "413": {
                    "$ref": "#/components/responses/ContentTooLarge"
                  },
                  "422": {
                    "$ref": "#/components/responses/UnprocessableContent"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                }
              }
            },
            "/v1/settings/cors": {
              "get": {
                "operationId": "getCORSSettings",
                "summary": "Get the browser origins allowed to call the inbox",
                "tags": [
                  "Settings"
                ],
                "responses": {
                  "200": {
                    "description": "The settings.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/CORSSettings"
                        }
                      }
                    }
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                },
                "security": [
                  {
                    "tenantKey": []
                  }
                ]
              },
              "put": {
                "operationId": "putCORSSettings",
                "summary": "Set the browser origins allowed to call the inbox",
                "tags": [
                  "Settings"
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/CORSSettings"
                      }
                    }
                  }
                },
                "responses": {
                  "200": {
                    "description": "The stored settings.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/CORSSettings"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "413": {
                    "$ref": "#/components/responses/ContentTooLarge"
                  },
                  "422": {
                    "description": "An origin is malformed; `errors` names it."
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                },
                "security": [
                  {
                    "tenantKey": []
                  }
                ]
              },
              "delete": {
                "operationId": "deleteCORSSettings",
                "summary": "Allow no cross-origin inbox calls",
                "tags": [
                  "Settings"
                ],
                "responses": {
                  "204": {
                    "description": "Removed."
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                },
                "security": [
                  {
                    "tenantKey": []
                  }
                ]
              }
            },
            "/v1/schedules": {
              "get": {
                "operationId": "listSchedules",
                "summary": "List schedules",
                "tags": [
                  "Schedules"
                ],
                "description": "The tenant's schedules, oldest first.",
                "security": [
                  {
                    "tenantKey": []
                  }
                ],
                "parameters": [
                  {
                    "$ref": "#/components/parameters/Cursor"
                  },
                  {
                    "name": "limit",
                    "in": "query",
                    "required": false,
                    "description": "The most items to return (1 to 1000; default 50).",
                    "schema": {
                      "type": "integer",
                      "minimum": 1,
                      "maximum": 1000,
                      "default": 50
                    }
                  }
                ],
                "responses": {
                  "200": {
                    "description": "One page of schedules.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/SchedulePage"
                        }
                      }
                    }
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "422": {
                    "$ref": "#/components/responses/UnprocessableContent"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                }
              },
              "post": {
                "operationId": "createSchedule",
                "summary": "Create a schedule",
                "tags": [
                  "Schedules"
                ],
                "description": "Checks the cron expression, the time zone and the trigger (as `POST /v1/events` would, against the event type as it is now) and answers a 422 naming each bad field (`cron`, `timezone`, `trigger.recipients` …). The first run is the next occurrence after now.",
                "security": [
                  {
                    "tenantKey": []
                  }
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/Schedule"
                      }
                    }
                  }
                },
                "responses": {
                  "201": {
                    "description": "The schedule, with its `id` and `next_run_at`.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Schedule"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "413": {
                    "$ref": "#/components/responses/ContentTooLarge"
                  },
                  "422": {
                    "$ref": "#/components/responses/UnprocessableContent"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                }
              }
            },
            "/v1/schedules/{id}": {
              "get": {
                "operationId": "getSchedule",
                "summary": "Get a schedule",
                "tags": [
                  "Schedules"
                ],
                "security": [
                  {
                    "tenantKey": []
                  }
                ],
                "parameters": [
                  {
                    "name": "id",
                    "in": "path",
                    "required": true,
                    "description": "The schedule's id (`sch_…`).",
                    "schema": {
                      "type": "string"
                    },
                    "example": "sch_01hx3k9m2a"
                  }
                ],
                "responses": {
                  "200": {
                    "description": "The schedule with its next run and the outcome of its last.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Schedule"
                        }
                      }
                    }
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "422": {
                    "$ref": "#/components/responses/UnprocessableContent"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                }
              },
              "put": {
                "operationId": "replaceSchedule",
                "summary": "Replace a schedule's definition",
                "tags": [
                  "Schedules"
                ],
                "description": "Replaces the name, expression, time zone, trigger and `enabled`, checked as on create. The next run is recomputed from now, so a changed time takes effect at its next occurrence; the run history (`runs`, `last_run_at` …) is kept.",
                "security": [
                  {
                    "tenantKey": []
                  }
                ],
                "parameters": [
                  {
                    "name": "id",
                    "in": "path",
                    "required": true,
                    "description": "The schedule's id (`sch_…`).",
                    "schema": {
                      "type": "string"
                    },
                    "example": "sch_01hx3k9m2a"
                  }
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/Schedule"
                      }
                    }
                  }
                },
                "responses": {
                  "200": {
                    "description": "The schedule as stored.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Schedule"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "413": {
                    "$ref": "#/components/responses/ContentTooLarge"
                  },
                  "422": {
                    "$ref": "#/components/responses/UnprocessableContent"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                }
              },
              "delete": {
                "operationId": "deleteSchedule",
                "summary": "Delete a schedule",
                "tags": [
                  "Schedules"
                ],
                "security": [
                  {
                    "tenantKey": []
                  }
                ],
                "parameters": [
                  {
                    "name": "id",
                    "in": "path",
                    "required": true,
                    "description": "The schedule's id (`sch_…`).",
                    "schema": {
                      "type": "string"
                    },
                    "example": "sch_01hx3k9m2a"
                  }
                ],
                "responses": {
                  "204": {
                    "description": "Deleted; events it already triggered are unaffected."
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "422": {
                    "$ref": "#/components/responses/UnprocessableContent"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                }
              }
            },
            "/v1/settings/rate-limits": {
              "get": {
                "operationId": "getRateLimitSettings",
                "summary": "Get the tenant's notification rate limits",
                "tags": [
                  "Settings"
                ],
                "description": "The tenant's own limits (null when it has none) and the effective ones after the server's.",
                "security": [
                  {
                    "tenantKey": []
                  }
                ],
                "responses": {
                  "200": {
                    "description": "The settings.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/RateLimitSettingsView"
                        }
                      }
                    }
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                }
              },
              "put": {
                "operationId": "replaceRateLimitSettings",
                "summary": "Replace the tenant's notification rate limits",
                "tags": [
                  "Settings"
                ],
                "description": "Each limit given replaces the server's; limits left out fall back to the server's. Checks every limit and answers a 422 naming each bad one (`rate_limits.per_channel.sms.period` …); nothing is stored unless all are valid. Applies to events accepted from then on.",
                "security": [
                  {
                    "tenantKey": []
                  }
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/RateLimitSettings"
                      }
                    }
                  }
                },
                "responses": {
                  "200": {
                    "description": "The settings as stored and the effective ones.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/RateLimitSettingsView"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "413": {
                    "$ref": "#/components/responses/ContentTooLarge"
                  },
                  "422": {
                    "$ref": "#/components/responses/UnprocessableContent"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                }
              },
              "delete": {
                "operationId": "deleteRateLimitSettings",
                "summary": "Go back to the server's rate limits",
                "tags": [
                  "Settings"
                ],
                "security": [
                  {
                    "tenantKey": []
                  }
                ],
                "responses": {
                  "204": {
                    "description": "The tenant's limits are gone; the server's apply."
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                }
              }
            },
            "/v1/settings/email/dns": {
              "get": {
                "operationId": "getEmailDNSRecords",
                "summary": "The DNS records to publish for the tenant's email",
                "tags": [
                  "Settings"
                ],
                "description": "Each DKIM key's TXT record (`<selector>._domainkey.<domain>`), an SPF hint for the From domain, a DMARC record to start with (`p=none`), and, when a bounce domain is set, its MX (Herald's inbound listener) and SPF. `herald email dns --tenant T` prints the same.",
                "security": [
                  {
                    "tenantKey": []
                  }
                ],
                "responses": {
                  "200": {
                    "description": "The records.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/EmailDNSRecords"
                        }
                      }
                    }
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                }
              }
            },
            "/v1/suppressions": {
              "get": {
                "operationId": "listSuppressions",
                "summary": "List the suppression list",
                "tags": [
                  "Email"
                ],
                "description": "Addresses the tenant's email no longer goes to, in address order: hard bounces, complaints, too many soft bounces, and entries added by hand. An email to one is `suppressed` with reason `bounced`, `complained` or `suppression_list` (critical ones too, unless `send_critical_to_suppressed`).",
                "security": [
                  {
                    "tenantKey": []
                  }
                ],
                "parameters": [
                  {
                    "name": "cursor",
                    "in": "query",
                    "schema": {
                      "type": "string"
                    }
                  },
                  {
                    "name": "limit",
                    "in": "query",
                    "schema": {
                      "type": "integer",
                      "minimum": 1,
                      "maximum": 1000,
                      "default": 50
                    }
                  }
                ],
                "responses": {
                  "200": {
                    "description": "One page.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/SuppressionPage"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  },
                  "422": {
                    "$ref": "#/components/responses/UnprocessableContent"
                  }
                }
              },
              "post": {
                "operationId": "addSuppression",
                "summary": "Put an address on the suppression list",
                "tags": [
                  "Email"
                ],
                "security": [
                  {
                    "tenantKey": []
                  }
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/NewSuppression"
                      }
                    }
                  }
                },
                "responses": {
                  "201": {
                    "description": "The entry.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Suppression"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  },
                  "413": {
                    "$ref": "#/components/responses/ContentTooLarge"
                  },
                  "422": {
                    "$ref": "#/components/responses/UnprocessableContent"
                  }
                }
              }
            },
            "/v1/suppressions/{address}": {
              "delete": {
                "operationId": "liftSuppression",
                "summary": "Lift a suppression",
                "tags": [
                  "Email"
                ],
                "description": "The next email to the address goes out. Soft bounces before the lift no longer count.",
                "security": [
                  {
                    "tenantKey": []
                  }
                ],
                "parameters": [
                  {
                    "name": "address",
                    "in": "path",
                    "required": true,
                    "schema": {
                      "type": "string"
                    }
                  }
                ],
                "responses": {
                  "204": {
                    "description": "Lifted."
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "422": {
                    "$ref": "#/components/responses/UnprocessableContent"
                  }
                }
              }
            },
            "/v1/settings/push": {
              "get": {
                "operationId": "getPushSettings",
                "summary": "Get the tenant's push settings",
                "tags": [
                  "Settings"
                ],
                "security": [
                  {
                    "tenantKey": []
                  }
                ],
                "responses": {
                  "200": {
                    "description": "The settings, redacted, and what sending uses.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/PushSettingsView"
                        }
                      }
                    }
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                }
              },
              "put": {
                "operationId": "replacePushSettings",
                "summary": "Replace the tenant's push settings",
                "tags": [
                  "Settings"
                ],
                "description": "Checks every field and answers a 422 naming each bad one (`apns.private_key`, `fcm.service_account.client_email` …); a key sent as `********` keeps the stored one.",
                "security": [
                  {
                    "tenantKey": []
                  }
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/PushSettings"
                      }
                    }
                  }
                },
                "responses": {
                  "200": {
                    "description": "The settings as stored.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/PushSettingsView"
                        }
                      }
                    }
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "413": {
                    "$ref": "#/components/responses/ContentTooLarge"
                  },
                  "422": {
                    "$ref": "#/components/responses/UnprocessableContent"
                  }
                }
              },
              "delete": {
                "operationId": "deletePushSettings",
                "summary": "Delete the tenant's push settings (the server's apply again)",
                "tags": [
                  "Settings"
                ],
                "security": [
                  {
                    "tenantKey": []
                  }
                ],
                "responses": {
                  "204": {
                    "description": "Deleted."
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                }
              }
            },
            "/v1/subscribers/{id}/devices": {
              "get": {
                "operationId": "listPushDevices",
                "summary": "List a subscriber's push devices",
                "tags": [
                  "Subscribers"
                ],
                "security": [
                  {
                    "tenantKey": []
                  }
                ],
                "parameters": [
                  {
                    "name": "id",
                    "in": "path",
                    "required": true,
                    "schema": {
                      "type": "string"
                    }
                  }
                ],
                "responses": {
                  "200": {
                    "description": "Active devices first.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/PushDeviceList"
                        }
                      }
                    }
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "422": {
                    "$ref": "#/components/responses/UnprocessableContent"
                  }
                }
              },
              "post": {
                "operationId": "registerPushDevice",
                "summary": "Register a push device for a subscriber",
                "tags": [
                  "Subscribers"
                ],
                "description": "A malformed token or subscription is a 422 naming the field.",
                "security": [
                  {
                    "tenantKey": []
                  }
                ],
                "parameters": [
                  {
                    "name": "id",
                    "in": "path",
                    "required": true,
                    "schema": {
                      "type": "string"
                    }
                  }
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/NewPushDevice"
                      }
                    }
                  }
                },
                "responses": {
                  "201": {
                    "description": "The device.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/PushDevice"
                        }
                      }
                    }
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "413": {
                    "$ref": "#/components/responses/ContentTooLarge"
                  },
                  "422": {
                    "$ref": "#/components/responses/UnprocessableContent"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  }
                }
              }
            },
            "/v1/subscribers/{id}/devices/{device}": {
              "delete": {
                "operationId": "deletePushDevice",
                "summary": "Remove a push device",
                "tags": [
                  "Subscribers"
                ],
                "security": [
                  {
                    "tenantKey": []
                  }
                ],
                "parameters": [
                  {
                    "name": "id",
                    "in": "path",
                    "required": true,
                    "schema": {
                      "type": "string"
                    }
                  },
                  {
                    "name": "device",
                    "in": "path",
                    "required": true,
                    "schema": {
                      "type": "string"
                    }
                  }
                ],
                "responses": {
                  "204": {
                    "description": "Removed."
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "422": {
                    "$ref": "#/components/responses/UnprocessableContent"
                  }
                }
              }
            },
            "/v1/inbox/devices": {
              "post": {
                "operationId": "registerOwnPushDevice",
                "summary": "Register this app or browser for push",
                "tags": [
                  "Inbox"
                ],
                "description": "With a subscriber token: an app or a browser registers itself (the web component's \"notify me on this device\").",
                "security": [
                  {
                    "subscriberToken": []
                  }
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/NewPushDevice"
                      }
                    }
                  }
                },
                "responses": {
                  "201": {
                    "description": "The device.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/PushDevice"
                        }
                      }
                    }
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "413": {
                    "$ref": "#/components/responses/ContentTooLarge"
                  },
                  "422": {
                    "$ref": "#/components/responses/UnprocessableContent"
                  }
                }
              }
            },
            "/v1/inbox/devices/{device}": {
              "delete": {
                "operationId": "deleteOwnPushDevice",
                "summary": "Stop push to this app or browser",
                "tags": [
                  "Inbox"
                ],
                "security": [
                  {
                    "subscriberToken": []
                  }
                ],
                "parameters": [
                  {
                    "name": "device",
                    "in": "path",
                    "required": true,
                    "schema": {
                      "type": "string"
                    }
                  }
                ],
                "responses": {
                  "204": {
                    "description": "Removed."
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "422": {
                    "$ref": "#/components/responses/UnprocessableContent"
                  }
                }
              }
            },
            "/v1/inbox/devices/vapid-public-key": {
              "get": {
                "operationId": "getVAPIDPublicKey",
                "summary": "The key a browser subscribes with",
                "tags": [
                  "Inbox"
                ],
                "description": "The tenant's VAPID public key (base64url), for PushManager.subscribe({applicationServerKey}).",
                "security": [
                  {
                    "subscriberToken": []
                  }
                ],
                "responses": {
                  "200": {
                    "description": "The key.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "type": "object",
                          "required": [
                            "public_key"
                          ],
                          "properties": {
                            "public_key": {
                              "type": "string"
                            }
                          }
                        }
                      }
                    }
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                }
              }
            },
            "/v1/events/{id}/runs": {
              "get": {
                "operationId": "listWorkflowRuns",
                "summary": "List an event's workflow runs",
                "tags": [
                  "Events"
                ],
                "security": [
                  {
                    "tenantKey": []
                  }
                ],
                "parameters": [
                  {
                    "name": "id",
                    "in": "path",
                    "required": true,
                    "description": "The event's id (`ev_…`), as returned in a trigger receipt.",
                    "schema": {
                      "type": "string"
                    },
                    "example": "ev_01hx3k9m2a"
                  },
                  {
                    "name": "subscriber_id",
                    "in": "query",
                    "required": false,
                    "description": "Only this subscriber's run.",
                    "schema": {
                      "type": "string"
                    }
                  },
                  {
                    "$ref": "#/components/parameters/Cursor"
                  },
                  {
                    "name": "limit",
                    "in": "query",
                    "required": false,
                    "description": "The most items to return (1 to 1000; default 100).",
                    "schema": {
                      "type": "integer",
                      "minimum": 1,
                      "maximum": 1000,
                      "default": 100
                    }
                  }
                ],
                "responses": {
                  "200": {
                    "description": "A page of runs.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/WorkflowRunPage"
                        }
                      }
                    }
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "422": {
                    "$ref": "#/components/responses/UnprocessableContent"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                },
                "description": "Each recipient's run of the event type's workflow, step by step with each step's messages; a page at a time, or one subscriber's."
              }
            },
            "/v1/inbox/{id}/click": {
              "post": {
                "operationId": "markInboxItemClicked",
                "summary": "Record a click on one message's link",
                "tags": [
                  "Inbox"
                ],
                "security": [
                  {
                    "subscriberToken": []
                  }
                ],
                "parameters": [
                  {
                    "name": "id",
                    "in": "path",
                    "required": true,
                    "description": "The in-app message's id (`msg_` plus a number). Another subscriber's message is not found.",
                    "schema": {
                      "type": "string"
                    },
                    "example": "msg_1042"
                  },
                  {
                    "$ref": "#/components/parameters/SubscriberTokenQuery"
                  }
                ],
                "responses": {
                  "200": {
                    "description": "The counts after the change.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/InboxCounts"
                        }
                      }
                    }
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "422": {
                    "$ref": "#/components/responses/UnprocessableContent"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                },
                "description": "The subscriber followed the item's action link: recorded as clicked, read and seen. A workflow waiting `until: clicked` (or read) advances at once."
              }
            },
            "/v1/event-types/{key}/workflow/preview": {
              "post": {
                "operationId": "previewWorkflow",
                "summary": "Preview a workflow",
                "tags": [
                  "Event types"
                ],
                "description": "Which steps the event type's workflow, or a draft given in the body, would take for a sample payload and subscriber: each step's status and reason and the messages it would plan, through the same planner as a real run. Waits are taken to run their course unless `assume_read`.",
                "security": [
                  {
                    "tenantKey": []
                  }
                ],
                "parameters": [
                  {
                    "name": "key",
                    "in": "path",
                    "required": true,
                    "description": "The event type's key.",
                    "schema": {
                      "type": "string"
                    },
                    "example": "payment_due"
                  }
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/WorkflowPreviewRequest"
                      }
                    }
                  }
                },
                "responses": {
                  "200": {
                    "description": "The steps the workflow would take, or the problems of a draft.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/WorkflowPreview"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "413": {
                    "$ref": "#/components/responses/ContentTooLarge"
                  },
                  "422": {
                    "$ref": "#/components/responses/UnprocessableContent"
                  },
                  "429": {
                    "$ref": "#/components/responses/TooManyRequests"
                  }
                }
              }
            },
            "/hooks/email/{provider}": {
              "post": {
                "operationId": "receiveServerEmailWebhook",
                "summary": "An email provider's bounce and complaint webhook, for the server's chain",
                "tags": [
                  "Email"
                ],
                "description": "Takes a provider's bounce and complaint webhook verified with the server's own chain (`email.transports` in herald.yml); each event goes to the tenant of the message it names, and events naming no message Herald sent by email are ignored. No API key: the provider's signature or credentials are the authority.\n\nVerification: SES through SNS, the SNS signature (SignatureVersion 1 SHA1withRSA or 2 SHA256withRSA over the documented fields) under the certificate at `SigningCertURL`, which must be https on `sns.<region>.amazonaws.com`, and the topic among `sns_topic_arns` when set; SendGrid, the ECDSA P-256 signature in `X-Twilio-Email-Event-Webhook-Signature` over `X-Twilio-Email-Event-Webhook-Timestamp` and the body, under `webhook_verification_key`; Postmark, HTTP Basic credentials equal to `webhook_username` and `webhook_password` (written into the webhook URL); Mailgun, the HMAC-SHA256 of timestamp and token under `webhook_signing_key`, with the timestamp within 10 minutes and the token not seen before.\n\nEach bounce or complaint is recorded exactly as one that came back by SMTP: the message's `email_feedback` (`hard_bounce`, `soft_bounce`, `complaint`, the detail naming the provider), the suppression list (at once for a hard bounce or complaint, at `soft_bounce_threshold` for soft bounces) and the `message.bounced` / `message.complained` status webhooks. SES `Permanent` bounces are hard and `Transient`/`Undetermined` soft; SendGrid `bounce` is hard, `blocked` soft, `dropped` for a bounced or spam-reporting address a hard bounce or complaint, `spamreport` a complaint; Postmark `HardBounce`, `BadEmailAddress`, `ManuallyDeactivated` are hard and `Transient`, `SoftBounce`, `DnsError`, `SpamNotification`, `Blocked` soft, `SpamComplaint` a complaint; Mailgun `failed` is hard when `permanent`, soft when `temporary`, `complained` a complaint. Events are matched to messages by the id Herald tags each email with (SES tag `herald_message` or header `X-Herald-Message`, SendGrid `custom_args`, Postmark `Metadata`, Mailgun `user-variables`); any other event is answered 200 and ignored. An SNS `SubscriptionConfirmation` is confirmed by a GET of its `SubscribeURL` (which must be on an SNS host too); a repeated SNS message or SendGrid event is taken once.",
                "security": [],
                "parameters": [
                  {
                    "name": "provider",
                    "in": "path",
                    "required": true,
                    "description": "`ses` (an Amazon SNS HTTPS subscription carrying SES notifications or events), `sendgrid` (the Signed Event Webhook), `postmark` (bounce and spam complaint webhooks) or `mailgun`.",
                    "schema": {
                      "type": "string",
                      "enum": [
                        "ses",
                        "sendgrid",
                        "postmark",
                        "mailgun"
                      ]
                    }
                  }
                ],
                "requestBody": {
                  "required": true,
                  "description": "The provider's payload exactly as it sends it (Herald verifies the raw bytes): an SNS message (`text/plain` JSON), a SendGrid batch (a JSON array), a Postmark bounce or spam complaint, a Mailgun webhook with its `signature` block. Fields the providers add are ignored. At most 4 MB.",
                  "content": {
                    "application/json": {
                      "schema": {}
                    },
                    "text/plain": {
                      "schema": {
                        "type": "string"
                      }
                    }
                  }
                },
                "responses": {
                  "200": {
                    "description": "Verified and taken: how many bounces and complaints were recorded and how many events were ignored (`subscription_confirmed` for an SNS subscription confirmation).",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/EmailWebhookReceipt"
                        }
                      }
                    }
                  },
                  "400": {
                    "description": "The body is not the provider's format (`malformed-webhook`): not JSON, or an SNS message without its fields. Nothing is recorded.",
                    "content": {
                      "application/problem+json": {
                        "schema": {
                          "$ref": "#/components/schemas/Problem"
                        }
                      }
                    }
                  },
                  "401": {
                    "description": "The webhook did not verify under any configuration of the chain, the chain has none of this provider with webhook credentials, or (Mailgun) its timestamp is stale or its token replayed (`webhook-not-verified`). Nothing is recorded. Postmark's answer carries `WWW-Authenticate: Basic`.",
                    "content": {
                      "application/problem+json": {
                        "schema": {
                          "$ref": "#/components/schemas/Problem"
                        }
                      }
                    }
                  },
                  "404": {
                    "description": "`provider` is not one Herald takes webhooks from.",
                    "content": {
                      "application/problem+json": {
                        "schema": {
                          "$ref": "#/components/schemas/Problem"
                        }
                      }
                    }
                  },
                  "413": {
                    "$ref": "#/components/responses/ContentTooLarge"
                  },
                  "422": {
                    "$ref": "#/components/responses/UnprocessableContent"
                  },
                  "502": {
                    "description": "Herald could not fetch the SNS signing certificate or confirm the subscription (`provider-unreachable`); SNS retries.",
                    "content": {
                      "application/problem+json": {
                        "schema": {
                          "$ref": "#/components/schemas/Problem"
                        }
                      }
                    }
                  }
                }
              }
            },
            "/hooks/email/{provider}/{tenant_id}": {
              "post": {
                "operationId": "receiveTenantEmailWebhook",
                "summary": "An email provider's bounce and complaint webhook, for a tenant's own chain",
                "tags": [
                  "Email"
                ],
                "description": "Takes a provider's bounce and complaint webhook verified with the tenant's own chain (the `transports` of `PUT /v1/settings/email`); only the tenant's messages are touched, and an event naming another tenant's message is ignored. No API key: the provider's signature or credentials are the authority.\n\nVerification: SES through SNS, the SNS signature (SignatureVersion 1 SHA1withRSA or 2 SHA256withRSA over the documented fields) under the certificate at `SigningCertURL`, which must be https on `sns.<region>.amazonaws.com`, and the topic among `sns_topic_arns` when set; SendGrid, the ECDSA P-256 signature in `X-Twilio-Email-Event-Webhook-Signature` over `X-Twilio-Email-Event-Webhook-Timestamp` and the body, under `webhook_verification_key`; Postmark, HTTP Basic credentials equal to `webhook_username` and `webhook_password` (written into the webhook URL); Mailgun, the HMAC-SHA256 of timestamp and token under `webhook_signing_key`, with the timestamp within 10 minutes and the token not seen before.\n\nEach bounce or complaint is recorded exactly as one that came back by SMTP: the message's `email_feedback` (`hard_bounce`, `soft_bounce`, `complaint`, the detail naming the provider), the suppression list (at once for a hard bounce or complaint, at `soft_bounce_threshold` for soft bounces) and the `message.bounced` / `message.complained` status webhooks. SES `Permanent` bounces are hard and `Transient`/`Undetermined` soft; SendGrid `bounce` is hard, `blocked` soft, `dropped` for a bounced or spam-reporting address a hard bounce or complaint, `spamreport` a complaint; Postmark `HardBounce`, `BadEmailAddress`, `ManuallyDeactivated` are hard and `Transient`, `SoftBounce`, `DnsError`, `SpamNotification`, `Blocked` soft, `SpamComplaint` a complaint; Mailgun `failed` is hard when `permanent`, soft when `temporary`, `complained` a complaint. Events are matched to messages by the id Herald tags each email with (SES tag `herald_message` or header `X-Herald-Message`, SendGrid `custom_args`, Postmark `Metadata`, Mailgun `user-variables`); any other event is answered 200 and ignored. An SNS `SubscriptionConfirmation` is confirmed by a GET of its `SubscribeURL` (which must be on an SNS host too); a repeated SNS message or SendGrid event is taken once.",
                "security": [],
                "parameters": [
                  {
                    "name": "provider",
                    "in": "path",
                    "required": true,
                    "description": "`ses` (an Amazon SNS HTTPS subscription carrying SES notifications or events), `sendgrid` (the Signed Event Webhook), `postmark` (bounce and spam complaint webhooks) or `mailgun`.",
                    "schema": {
                      "type": "string",
                      "enum": [
                        "ses",
                        "sendgrid",
                        "postmark",
                        "mailgun"
                      ]
                    }
                  },
                  {
                    "name": "tenant_id",
                    "in": "path",
                    "required": true,
                    "description": "The tenant whose own chain (`transports` of its email settings) verifies the webhook; only its messages are touched.",
                    "schema": {
                      "type": "string"
                    }
                  }
                ],
                "requestBody": {
                  "required": true,
                  "description": "The provider's payload exactly as it sends it (Herald verifies the raw bytes): an SNS message (`text/plain` JSON), a SendGrid batch (a JSON array), a Postmark bounce or spam complaint, a Mailgun webhook with its `signature` block. Fields the providers add are ignored. At most 4 MB.",
                  "content": {
                    "application/json": {
                      "schema": {}
                    },
                    "text/plain": {
                      "schema": {
                        "type": "string"
                      }
                    }
                  }
                },
                "responses": {
                  "200": {
                    "description": "Verified and taken: how many bounces and complaints were recorded and how many events were ignored (`subscription_confirmed` for an SNS subscription confirmation).",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/EmailWebhookReceipt"
                        }
                      }
                    }
                  },
                  "400": {
                    "description": "The body is not the provider's format (`malformed-webhook`): not JSON, or an SNS message without its fields. Nothing is recorded.",
                    "content": {
                      "application/problem+json": {
                        "schema": {
                          "$ref": "#/components/schemas/Problem"
                        }
                      }
                    }
                  },
                  "401": {
                    "description": "The webhook did not verify under any configuration of the chain, the chain has none of this provider with webhook credentials, or (Mailgun) its timestamp is stale or its token replayed (`webhook-not-verified`). Nothing is recorded. Postmark's answer carries `WWW-Authenticate: Basic`.",
                    "content": {
                      "application/problem+json": {
                        "schema": {
                          "$ref": "#/components/schemas/Problem"
                        }
                      }
                    }
                  },
                  "404": {
                    "description": "`provider` is not one Herald takes webhooks from.",
                    "content": {
                      "application/problem+json": {
                        "schema": {
                          "$ref": "#/components/schemas/Problem"
                        }
                      }
                    }
                  },
                  "413": {
                    "$ref": "#/components/responses/ContentTooLarge"
                  },
                  "422": {
                    "$ref": "#/components/responses/UnprocessableContent"
                  },
                  "502": {
                    "description": "Herald could not fetch the SNS signing certificate or confirm the subscription (`provider-unreachable`); SNS retries.",
                    "content": {
                      "application/problem+json": {
                        "schema": {
                          "$ref": "#/components/schemas/Problem"
                        }
                      }
                    }
                  }
                }
              }
            },
            "/t/c/{token}": {
              "get": {
                "operationId": "followTrackedLink",
                "summary": "Follow a tracked email link",
                "tags": [
                  "Tracking"
                ],
                "description": "Records a click on the email (`click_count` + 1, `clicked_at` on the first), wakes a workflow waiting `until: clicked` in the same transaction, queues `message.clicked`, and redirects to the link's original URL (only http or https). Link scanners that follow links count as clicks.",
                "security": [],
                "parameters": [
                  {
                    "name": "token",
                    "in": "path",
                    "required": true,
                    "description": "The signed token the email carries. A click token holds the message and the link's original URL under an HMAC; one changed in any character is refused.",
                    "schema": {
                      "type": "string",
                      "maxLength": 2783
                    }
                  }
                ],
                "responses": {
                  "302": {
                    "description": "To the original URL.",
                    "headers": {
                      "Location": {
                        "schema": {
                          "type": "string",
                          "format": "uri"
                        }
                      }
                    }
                  },
                  "404": {
                    "description": "The token was not made by this server, or was altered (a different URL, another message): nothing is recorded and nothing is redirected to.",
                    "content": {
                      "application/problem+json": {
                        "schema": {
                          "$ref": "#/components/schemas/Problem"
                        }
                      }
                    }
                  },
                  "422": {
                    "$ref": "#/components/responses/UnprocessableContent"
                  }
                }
              },
              "head": {
                "operationId": "checkTrackedLink",
                "summary": "Check a tracked email link (records nothing)",
                "tags": [
                  "Tracking"
                ],
                "description": "Answers as `GET` would, without recording a click.",
                "security": [],
                "parameters": [
                  {
                    "name": "token",
                    "in": "path",
                    "required": true,
                    "description": "The signed token the email carries. A click token holds the message and the link's original URL under an HMAC; one changed in any character is refused.",
                    "schema": {
                      "type": "string",
                      "maxLength": 2783
                    }
                  }
                ],
                "responses": {
                  "302": {
                    "description": "To the original URL.",
                    "headers": {
                      "Location": {
                        "schema": {
                          "type": "string",
                          "format": "uri"
                        }
                      }
                    }
                  },
                  "404": {
                    "description": "The token was not made by this server, or was altered (a different URL, another message): nothing is recorded and nothing is redirected to.",
                    "content": {
                      "application/problem+json": {
                        "schema": {
                          "$ref": "#/components/schemas/Problem"
                        }
                      }
                    }
                  },
                  "422": {
                    "$ref": "#/components/responses/UnprocessableContent"
                  }
                }
              }
            },
            "/t/o/{token}": {
              "get": {
                "operationId": "loadOpenPixel",
                "summary": "Load a tracked email's open pixel",
                "tags": [
                  "Tracking"
                ],
                "description": "Records an open (`open_count` + 1, `opened_at` on the first), wakes a workflow waiting `until: opened`, and queues `message.opened` on the first. Mail privacy proxies load every pixel, so opens are inflated.",
                "security": [],
                "parameters": [
                  {
                    "name": "token",
                    "in": "path",
                    "required": true,
                    "description": "The signed token the email carries. A click token holds the message and the link's original URL under an HMAC; one changed in any character is refused.",
                    "schema": {
                      "type": "string",
                      "maxLength": 2783
                    }
                  }
                ],
                "responses": {
                  "200": {
                    "description": "A transparent 1×1 GIF that no cache keeps.",
                    "headers": {
                      "Cache-Control": {
                        "schema": {
                          "type": "string"
                        },
                        "description": "`no-store, no-cache, must-revalidate, max-age=0`"
                      }
                    },
                    "content": {
                      "image/gif": {
                        "schema": {
                          "type": "string",
                          "contentMediaType": "image/gif"
                        }
                      }
                    }
                  },
                  "404": {
                    "description": "The token was not made by this server, or was altered (a different URL, another message): nothing is recorded and nothing is redirected to.",
                    "content": {
                      "application/problem+json": {
                        "schema": {
                          "$ref": "#/components/schemas/Problem"
                        }
                      }
                    }
                  },
                  "422": {
                    "$ref": "#/components/responses/UnprocessableContent"
                  }
                }
              },
              "head": {
                "operationId": "checkOpenPixel",
                "summary": "Check an open pixel (records nothing)",
                "tags": [
                  "Tracking"
                ],
                "description": "Answers as `GET` would, without recording an open.",
                "security": [],
                "parameters": [
                  {
                    "name": "token",
                    "in": "path",
                    "required": true,
                    "description": "The signed token the email carries. A click token holds the message and the link's original URL under an HMAC; one changed in any character is refused.",
                    "schema": {
                      "type": "string",
                      "maxLength": 2783
                    }
                  }
                ],
                "responses": {
                  "200": {
                    "description": "A transparent 1×1 GIF that no cache keeps.",
                    "headers": {
                      "Cache-Control": {
                        "schema": {
                          "type": "string"
                        },
                        "description": "`no-store, no-cache, must-revalidate, max-age=0`"
                      }
                    },
                    "content": {
                      "image/gif": {
                        "schema": {
                          "type": "string",
                          "contentMediaType": "image/gif"
                        }
                      }
                    }
                  },
                  "404": {
                    "description": "The token was not made by this server, or was altered (a different URL, another message): nothing is recorded and nothing is redirected to.",
                    "content": {
                      "application/problem+json": {
                        "schema": {
                          "$ref": "#/components/schemas/Problem"
                        }
                      }
                    }
                  },
                  "422": {
                    "$ref": "#/components/responses/UnprocessableContent"
                  }
                }
              }
            }
          },
          "components": {
            "securitySchemes": {
              "tenantKey": {
                "type": "http",
                "scheme": "bearer",
                "description": "A tenant API key (`hk_…`), sent as `Authorization: Bearer hk_…`. Made by `POST /v1/tenants` or `POST /v1/api-keys`."
              },
              "adminKey": {
                "type": "http",
                "scheme": "bearer",
                "description": "The operator key: the value of the server's `HERALD_ADMIN_KEY`. Operator routes answer 403 when it is not set."
              },
              "subscriberToken": {
                "type": "http",
                "scheme": "bearer",
                "description": "A subscriber token from `POST /v1/subscribers/{id}/token`. Also accepted as the `?token=` query parameter for clients that cannot set headers (EventSource)."
              }
            },
            "parameters": {
              "Cursor": {
                "name": "cursor",
                "in": "query",
                "required": false,
                "description": "The `next_cursor` of the previous page; omit for the first page.",
                "schema": {
                  "type": "string"
                }
              },
              "IdempotencyKey": {
                "name": "Idempotency-Key",
                "in": "header",
                "required": false,
                "description": "1 to 255 characters. Repeating a request with the same key and body returns the first result (with `Idempotent-Replayed: true`); the same key with a different body is a 409.",
                "schema": {
                  "type": "string",
                  "minLength": 1,
                  "maxLength": 255
                }
              },
              "SubscriberTokenQuery": {
                "name": "token",
                "in": "query",
                "required": false,
                "description": "The subscriber token, for clients that cannot send an `Authorization` header.",
                "schema": {
                  "type": "string"
                }
              }
            },
            "headers": {
              "IdempotentReplayed": {
                "description": "`true` when this response replays an earlier request with the same `Idempotency-Key`.",
                "schema": {
                  "type": "string",
                  "const": "true"
                }
              },
              "RetryAfter": {
                "description": "Whole seconds to wait before retrying.",
                "schema": {
                  "type": "string",
                  "pattern": "^[0-9]+$"
                }
              }
            },
            "responses": {
              "BadRequest": {
                "description": "The body is missing or is not valid JSON (`malformed-json`).",
                "content": {
                  "application/problem+json": {
                    "schema": {
                      "$ref": "#/components/schemas/Problem"
                    }
                  }
                }
              },
              "Unauthorized": {
                "description": "Missing, unknown, revoked or expired credentials. Sent with `WWW-Authenticate: Bearer`.",
                "content": {
                  "application/problem+json": {
                    "schema": {
                      "$ref": "#/components/schemas/Problem"
                    }
                  }
                }
              },
              "Forbidden": {
                "description": "A valid credential that does not reach this operation (`insufficient-scope`: a subscriber token on a tenant route, a preferences-only token on the inbox), a console session's change without its CSRF token (`csrf-refused`), or an operator route on a server with no `HERALD_ADMIN_KEY`.",
                "content": {
                  "application/problem+json": {
                    "schema": {
                      "$ref": "#/components/schemas/Problem"
                    }
                  }
                }
              },
              "NotFound": {
                "description": "No such resource in this tenant (another tenant's resources are reported the same way).",
                "content": {
                  "application/problem+json": {
                    "schema": {
                      "$ref": "#/components/schemas/Problem"
                    }
                  }
                }
              },
              "Conflict": {
                "description": "The request conflicts with stored state.",
                "content": {
                  "application/problem+json": {
                    "schema": {
                      "$ref": "#/components/schemas/Problem"
                    }
                  }
                }
              },
              "ContentTooLarge": {
                "description": "The request body is larger than this endpoint accepts (`body-too-large`).",
                "content": {
                  "application/problem+json": {
                    "schema": {
                      "$ref": "#/components/schemas/Problem"
                    }
                  }
                }
              },
              "UnprocessableContent": {
                "description": "Valid JSON of the wrong shape, or a value that breaks a rule (`invalid-request`); `errors` names each field.",
                "content": {
                  "application/problem+json": {
                    "schema": {
                      "$ref": "#/components/schemas/Problem"
                    }
                  }
                }
              },
              "TooManyRequests": {
                "description": "The credential is over its request limit (`too-many-requests`); retry after `Retry-After` seconds.",
                "headers": {
                  "Retry-After": {
                    "$ref": "#/components/headers/RetryAfter"
                  }
                },
                "content": {
                  "application/problem+json": {
                    "schema": {
                      "$ref": "#/components/schemas/Problem"
                    }
                  }
                }
              }
            },
            "schemas": {
              "Problem": {
                "type": "object",
                "description": "An RFC 9457 problem document. Every error Herald returns has this shape, as `application/problem+json`.",
                "required": [
                  "type",
                  "title",
                  "status",
                  "detail"
                ],
                "properties": {
                  "type": {
                    "type": "string",
                    "description": "A URN naming the kind of problem.",
                    "examples": [
                      "urn:herald:problem:invalid-request",
                      "urn:herald:problem:not-found",
                      "urn:herald:problem:unauthorized",
                      "urn:herald:problem:conflict",
                      "urn:herald:problem:malformed-json",
                      "urn:herald:problem:body-too-large"
                    ]
                  },
                  "title": {
                    "type": "string",
                    "description": "A short, fixed summary of the kind of problem."
                  },
                  "status": {
                    "type": "integer",
                    "description": "The HTTP status code."
                  },
                  "detail": {
                    "type": "string",
                    "description": "What went wrong with this request."
                  },
                  "errors": {
                    "type": "array",
                    "items": {
                      "$ref": "#/components/schemas/FieldError"
                    },
                    "description": "Each field at fault and why (validation problems)."
                  },
                  "field": {
                    "type": "string",
                    "description": "The first field at fault, repeated for clients that show one message."
                  }
                }
              },
              "FieldError": {
                "type": "object",
                "required": [
                  "field",
                  "reason"
                ],
                "properties": {
                  "field": {
                    "type": "string",
                    "description": "A JSON path into the request.",
                    "examples": [
                      "payload.amount",
                      "recipients[2].email",
                      "events[4].type"
                    ]
                  },
                  "reason": {
                    "type": "string",
                    "description": "Why the field is wrong, in words an API user can act on."
                  }
                }
              },
              "Health": {
                "type": "object",
                "required": [
                  "status"
                ],
                "properties": {
                  "status": {
                    "type": "string",
                    "const": "ok"
                  }
                }
              },
              "Readiness": {
                "type": "object",
                "required": [
                  "ready",
                  "role",
                  "database",
                  "dispatcher"
                ],
                "properties": {
                  "ready": {
                    "type": "boolean"
                  },
                  "role": {
                    "type": "string",
                    "enum": [
                      "api",
                      "worker",
                      "all"
                    ],
                    "description": "What this process runs (`herald serve --role`). A `worker` serves only `/healthz`, `/readyz`, `/metrics` and `/openapi.json`."
                  },
                  "database": {
                    "type": "string",
                    "description": "`ok`, or `unreachable: …`."
                  },
                  "dispatcher": {
                    "type": "string",
                    "description": "`ok`, `not started`, `stalled`, or `not running in this process (role api)`."
                  },
                  "queue": {
                    "$ref": "#/components/schemas/QueueDepth"
                  }
                }
              },
              "QueueDepth": {
                "type": "object",
                "description": "Work waiting: due messages by priority, and pending topic fan-out jobs.",
                "required": [
                  "by_priority",
                  "fanout_jobs"
                ],
                "properties": {
                  "by_priority": {
                    "type": "object",
                    "propertyNames": {
                      "$ref": "#/components/schemas/Priority"
                    },
                    "additionalProperties": {
                      "type": "integer"
                    }
                  },
                  "fanout_jobs": {
                    "type": "integer"
                  }
                }
              },
              "Tenant": {
                "type": "object",
                "description": "The isolation boundary (an estate, an organisation). Nothing crosses from one tenant to another.",
                "required": [
                  "id",
                  "name",
                  "created_at"
                ],
                "properties": {
                  "id": {
                    "type": "string",
                    "examples": [
                      "tn_01hx3k9m2a"
                    ]
                  },
                  "name": {
                    "type": "string"
                  },
                  "created_at": {
                    "type": "string",
                    "format": "date-time"
                  }
                }
              },
              "TenantList": {
                "type": "object",
                "description": "Every tenant.",
                "required": [
                  "data"
                ],
                "properties": {
                  "data": {
                    "type": "array",
                    "items": {
                      "$ref": "#/components/schemas/Tenant"
                    }
                  }
                }
              },
              "CreateTenantRequest": {
                "type": "object",
                "additionalProperties": false,
                "required": [
                  "name"
                ],
                "properties": {
                  "name": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 200
                  }
                }
              },
              "CreatedTenant": {
                "type": "object",
                "required": [
                  "tenant",
                  "api_key"
                ],
                "properties": {
                  "tenant": {
                    "$ref": "#/components/schemas/Tenant"
                  },
                  "api_key": {
                    "$ref": "#/components/schemas/IssuedAPIKey"
                  }
                }
              },
              "APIKeyInfo": {
                "type": "object",
                "description": "An API key's public description; the secret is never shown after creation.",
                "required": [
                  "id",
                  "prefix",
                  "created_at"
                ],
                "properties": {
                  "id": {
                    "type": "string",
                    "examples": [
                      "key_01hx3k9m2a"
                    ]
                  },
                  "name": {
                    "type": "string"
                  },
                  "prefix": {
                    "type": "string",
                    "description": "The first characters of the key, to tell keys apart.",
                    "examples": [
                      "hk_3Fq9a1Z"
                    ]
                  },
                  "created_at": {
                    "type": "string",
                    "format": "date-time"
                  },
                  "revoked_at": {
                    "type": "string",
                    "format": "date-time"
                  }
                }
              },
              "APIKeyList": {
                "type": "object",
                "description": "The tenant's API keys.",
                "required": [
                  "data"
                ],
                "properties": {
                  "data": {
                    "type": "array",
                    "items": {
                      "$ref": "#/components/schemas/APIKeyInfo"
                    }
                  }
                }
              },
              "IssuedAPIKey": {
                "description": "A newly made key: the key's description with its secret `key`, the only time the secret is returned.",
                "allOf": [
                  {
                    "$ref": "#/components/schemas/APIKeyInfo"
                  },
                  {
                    "type": "object",
                    "required": [
                      "key"
                    ],
                    "properties": {
                      "key": {
                        "type": "string",
                        "description": "The secret API key (`hk_…`). Store it now; it cannot be shown again."
                      }
                    }
                  }
                ]
              },
              "CreateAPIKeyRequest": {
                "type": "object",
                "additionalProperties": false,
                "properties": {
                  "name": {
                    "type": "string",
                    "description": "A label to tell the key apart."
                  }
                }
              },
              "Priority": {
                "type": "string",
                "enum": [
                  "critical",
                  "high",
                  "medium",
                  "low"
                ],
                "description": "How urgent an event type is. `critical` bypasses preferences and has dispatch capacity held back for it."
              },
              "Channel": {
                "type": "string",
                "enum": [
                  "in_app",
                  "email",
                  "sms",
                  "webhook",
                  "chat",
                  "push"
                ],
                "description": "A way to reach a subscriber. Template parts: in_app `title`, `body` (optional `action_url`); email `subject`, `html` (optional `text`); sms `text`; chat `text` (optional `title`); webhook `body`."
              },
              "ParameterSpec": {
                "type": "object",
                "description": "A parameter an event type declares: what a trigger's payload must or may carry.",
                "properties": {
                  "type": {
                    "type": "string",
                    "enum": [
                      "string",
                      "number",
                      "integer",
                      "boolean",
                      "datetime",
                      "url",
                      "object",
                      "array",
                      "any"
                    ],
                    "default": "any"
                  },
                  "required": {
                    "type": "boolean",
                    "default": true
                  },
                  "description": {
                    "type": "string"
                  }
                }
              },
              "RateLimit": {
                "type": "object",
                "description": "At most `limit` messages per `period`, as a token bucket: the full allowance at once, then one more every `period / limit`.",
                "required": [
                  "limit",
                  "period"
                ],
                "properties": {
                  "limit": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": 1000000000,
                    "examples": [
                      10
                    ]
                  },
                  "period": {
                    "type": "string",
                    "description": "A duration from `1s` to `31d`: `30s`, `10m`, `1h`, `1d`.",
                    "examples": [
                      "1h"
                    ]
                  }
                }
              },
              "RateLimitSettings": {
                "type": "object",
                "description": "Notification rate limits on top of each event type's own `rate_limit`. The server's come from `rate_limits:` in herald.yml; each limit a tenant sets replaces the server's. Critical events are never limited. A message over a limit is deferred or suppressed as its event type's `on_limit` says.",
                "properties": {
                  "per_subscriber": {
                    "allOf": [
                      {
                        "$ref": "#/components/schemas/RateLimit"
                      }
                    ],
                    "description": "Per subscriber and channel, across every event type."
                  },
                  "per_subscriber_event_type": {
                    "allOf": [
                      {
                        "$ref": "#/components/schemas/RateLimit"
                      }
                    ],
                    "description": "Per subscriber and channel for each event type that sets no `rate_limit` of its own."
                  },
                  "per_channel": {
                    "type": "object",
                    "description": "Per tenant and channel, all subscribers together: what an SMS budget or a provider's quota allows.",
                    "propertyNames": {
                      "$ref": "#/components/schemas/Channel"
                    },
                    "additionalProperties": {
                      "$ref": "#/components/schemas/RateLimit"
                    }
                  },
                  "per_tenant": {
                    "allOf": [
                      {
                        "$ref": "#/components/schemas/RateLimit"
                      }
                    ],
                    "description": "Per tenant: every message on every channel."
                  }
                }
              },
              "DedupSpec": {
                "type": "object",
                "description": "When two events of a type are the same for a recipient: within `window` of the first, with equal values in `fields`. The later event's messages are suppressed with reason `duplicate` and `duplicate_of` naming the original's message on the same channel.",
                "required": [
                  "window"
                ],
                "properties": {
                  "window": {
                    "type": "string",
                    "description": "A duration from `1s` to `30d`, measured from the original message (not from the last duplicate).",
                    "examples": [
                      "10m"
                    ]
                  },
                  "fields": {
                    "type": "array",
                    "items": {
                      "type": "string",
                      "minLength": 1
                    },
                    "minItems": 1,
                    "description": "Payload fields compared (a missing field compares as null); absent compares the whole payload.",
                    "examples": [
                      [
                        "invoice_id"
                      ]
                    ]
                  }
                }
              },
              "DigestSpec": {
                "type": "object",
                "description": "How an event type collects what a subscriber receives into one message per channel: over a `window` that starts with the first item, or until the next run of a `schedule` on the subscriber's clock. Give exactly one of the two. Only events with the same digest key go into one digest; nothing is merged across keys, tenants or subscribers.",
                "oneOf": [
                  {
                    "required": [
                      "window"
                    ]
                  },
                  {
                    "required": [
                      "schedule"
                    ]
                  }
                ],
                "properties": {
                  "window": {
                    "type": "string",
                    "description": "A duration from `15m` to `24h`, measured from the first item.",
                    "examples": [
                      "1h"
                    ]
                  },
                  "schedule": {
                    "type": "string",
                    "description": "A five-field cron expression, run in the subscriber's time zone.",
                    "examples": [
                      "0 8 * * *"
                    ]
                  },
                  "key": {
                    "type": "string",
                    "description": "A payload field whose value separates digests (`project_id`: one digest per project); absent puts all the type's events into one.",
                    "examples": [
                      "project_id"
                    ]
                  }
                }
              },
              "AudienceSpec": {
                "type": "object",
                "description": "Who an event type notifies when a trigger names no recipients: topics, and subscriber ids read from payload fields. Name at least one of either. Recipients named in a trigger replace the audience.",
                "properties": {
                  "topics": {
                    "type": "array",
                    "items": {
                      "type": "string",
                      "minLength": 1
                    },
                    "description": "Topic keys notified.",
                    "examples": [
                      [
                        "residents"
                      ]
                    ]
                  },
                  "subscriber_fields": {
                    "type": "array",
                    "items": {
                      "type": "string",
                      "minLength": 1
                    },
                    "description": "Payload fields holding a subscriber id or an array of them; absent or null fields are skipped.",
                    "examples": [
                      [
                        "assignee_id",
                        "reporter_id"
                      ]
                    ]
                  }
                }
              },
              "EventType": {
                "type": "object",
                "description": "A kind of event an app can trigger: its priority, channels, declared parameters and templates, and how its flow is controlled (dedup, rate limit, digest, audience).",
                "required": [
                  "priority",
                  "channels"
                ],
                "properties": {
                  "key": {
                    "type": "string",
                    "description": "Optional in a PUT body (the URL's key is used); must match the URL when given.",
                    "examples": [
                      "payment_due"
                    ]
                  },
                  "name": {
                    "type": "string"
                  },
                  "category": {
                    "type": "string"
                  },
                  "description": {
                    "type": "string"
                  },
                  "priority": {
                    "$ref": "#/components/schemas/Priority"
                  },
                  "channels": {
                    "type": "array",
                    "items": {
                      "$ref": "#/components/schemas/Channel"
                    }
                  },
                  "parameters": {
                    "type": "object",
                    "additionalProperties": {
                      "$ref": "#/components/schemas/ParameterSpec"
                    },
                    "description": "Declared payload parameters by name."
                  },
                  "templates": {
                    "type": "object",
                    "description": "Templates per channel, then locale, then part (`title`, `subject`, `html` …).",
                    "propertyNames": {
                      "$ref": "#/components/schemas/Channel"
                    },
                    "additionalProperties": {
                      "type": "object",
                      "description": "Locale (BCP 47) → part → template text.",
                      "additionalProperties": {
                        "type": "object",
                        "additionalProperties": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "defaults": {
                    "type": "object",
                    "description": "Preference defaults per channel (true = on); tenants and subscribers override them.",
                    "propertyNames": {
                      "$ref": "#/components/schemas/Channel"
                    },
                    "additionalProperties": {
                      "type": "boolean"
                    }
                  },
                  "retention_days": {
                    "type": "integer",
                    "minimum": 1,
                    "description": "How long events and messages of this type are kept; the server default applies when absent."
                  },
                  "fallback_templates": {
                    "type": "object",
                    "description": "Plainer templates, same shape as `templates`, used when a message's data is missing at send time (a subscriber without a name, a parameter made required after the event was accepted). Without one, such a message fails with reason `render_failed`, naming the missing values.",
                    "additionalProperties": {
                      "type": "object",
                      "additionalProperties": {
                        "type": "object",
                        "additionalProperties": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "dedup": {
                    "allOf": [
                      {
                        "$ref": "#/components/schemas/DedupSpec"
                      }
                    ],
                    "description": "Suppresses a repeat of the same event for the same recipient and channel within a window."
                  },
                  "rate_limit": {
                    "allOf": [
                      {
                        "$ref": "#/components/schemas/RateLimit"
                      }
                    ],
                    "description": "At most this many messages of the type per subscriber and channel (it replaces the tenant's `per_subscriber_event_type`; the other tenant and server limits apply too). Critical types are never limited."
                  },
                  "on_limit": {
                    "type": "string",
                    "enum": [
                      "defer",
                      "suppress"
                    ],
                    "default": "defer",
                    "description": "What happens to a message over any limit: `defer` holds it queued (reason `rate_limited`) until the limit allows, so a burst goes out spread at the allowed rate; `suppress` does not send it (reason `rate_limited`)."
                  },
                  "digest": {
                    "allOf": [
                      {
                        "$ref": "#/components/schemas/DigestSpec"
                      }
                    ],
                    "description": "Collects a subscriber's messages of the type into one per channel. Not for critical types."
                  },
                  "digest_templates": {
                    "type": "object",
                    "description": "Templates for digests, same shape as `templates`, used only with `digest`. They see `items` (each with its event's payload, `event_id`, `created_at`, `message`: the rendered parts of its own message, and a one-line `headline`), `count` and `digest.json` (the digest as JSON). Parts left out come from the built-in ones, which list the items' headlines.",
                    "propertyNames": {
                      "$ref": "#/components/schemas/Channel"
                    },
                    "additionalProperties": {
                      "type": "object",
                      "description": "Locale (BCP 47) → part → template text.",
                      "additionalProperties": {
                        "type": "object",
                        "additionalProperties": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "audience": {
                    "allOf": [
                      {
                        "$ref": "#/components/schemas/AudienceSpec"
                      }
                    ],
                    "description": "Who a trigger without recipients notifies."
                  },
                  "workflow": {
                    "$ref": "#/components/schemas/Workflow"
                  },
                  "tracking": {
                    "type": "object",
                    "additionalProperties": false,
                    "properties": {
                      "opens": {
                        "type": "boolean"
                      },
                      "clicks": {
                        "type": "boolean"
                      }
                    },
                    "description": "Open and click tracking of this type's email, over the tenant's `tracking` (email settings) field by field: `{\"clicks\": false}` keeps a tenant's opens and switches its clicks off. Refused on a critical type and on a type without email."
                  },
                  "attachments": {
                    "type": "array",
                    "maxItems": 10,
                    "items": {
                      "$ref": "#/components/schemas/Attachment"
                    },
                    "description": "Files every email of this type carries, with base64 `content` (no `url`); checked when the type is saved, and copied to each event when it is triggered, so later edits change later events only. Needs the email channel."
                  }
                }
              },
              "EventTypeList": {
                "type": "object",
                "description": "The tenant's event types.",
                "required": [
                  "data"
                ],
                "properties": {
                  "data": {
                    "type": "array",
                    "items": {
                      "$ref": "#/components/schemas/EventType"
                    }
                  }
                }
              },
              "PreviewRequest": {
                "type": "object",
                "additionalProperties": false,
                "properties": {
                  "payload": {
                    "type": "object",
                    "additionalProperties": true,
                    "description": "Sample payload to render with."
                  },
                  "locale": {
                    "type": "string",
                    "description": "The locale to render for (BCP 47)."
                  },
                  "event_type": {
                    "$ref": "#/components/schemas/EventType",
                    "description": "A draft of the event type (same shape as PUT /v1/event-types/{key}) to render instead of the saved one, for a live preview while a template is edited. Checked like a save: problems are a 422 naming `event_type.…`."
                  }
                }
              },
              "RenderedContent": {
                "type": "object",
                "required": [
                  "locale",
                  "parts"
                ],
                "properties": {
                  "locale": {
                    "type": "string",
                    "description": "The locale whose templates were used."
                  },
                  "parts": {
                    "type": "object",
                    "additionalProperties": {
                      "type": "string"
                    },
                    "description": "Rendered text per template part."
                  }
                }
              },
              "Preview": {
                "type": "object",
                "required": [
                  "channels"
                ],
                "properties": {
                  "channels": {
                    "type": "object",
                    "propertyNames": {
                      "$ref": "#/components/schemas/Channel"
                    },
                    "additionalProperties": {
                      "$ref": "#/components/schemas/RenderedContent"
                    }
                  },
                  "payload": {
                    "type": "object",
                    "additionalProperties": true,
                    "description": "The payload used: what was sent, plus sample values for missing declared parameters."
                  },
                  "subject": {
                    "type": [
                      "string",
                      "null"
                    ],
                    "description": "The email's subject, when the event type has an email channel (else null)."
                  },
                  "html": {
                    "type": [
                      "string",
                      "null"
                    ],
                    "description": "The email's full HTML inside the tenant's layout (else null)."
                  },
                  "text": {
                    "type": [
                      "string",
                      "null"
                    ],
                    "description": "The email's plain text part, generated from the HTML when the template has none (else null)."
                  }
                }
              },
              "Subscriber": {
                "type": "object",
                "description": "A recipient, identified by the app's own id inside a tenant.",
                "required": [
                  "id"
                ],
                "properties": {
                  "id": {
                    "type": "string"
                  },
                  "name": {
                    "type": "string"
                  },
                  "email": {
                    "type": "string",
                    "format": "email"
                  },
                  "phone": {
                    "type": "string",
                    "description": "E.164 phone number: `+`, then 7 to 15 digits with no spaces, the first not 0. Other forms are refused with a 422 naming `phone`.",
                    "example": "+447700900123"
                  },
                  "locale": {
                    "type": "string",
                    "description": "BCP 47 language tag (`en`, `fr-CA`) used to pick templates."
                  },
                  "timezone": {
                    "type": "string",
                    "description": "IANA time zone (`Europe/London`)."
                  },
                  "quiet_hours": {
                    "$ref": "#/components/schemas/QuietHours"
                  },
                  "data": {
                    "type": "object",
                    "additionalProperties": true,
                    "description": "Free-form attributes available to templates. Two are read by the chat channel: `chat_webhook_url` (the subscriber's own Slack, Teams or Discord webhook, used instead of the tenant's) and `chat_provider` (`slack`, `teams` or `discord`; needed only when the URL's host is not one Herald recognises). Both are checked on upsert."
                  },
                  "created_at": {
                    "type": "string",
                    "format": "date-time"
                  },
                  "updated_at": {
                    "type": "string",
                    "format": "date-time"
                  }
                }
              },
              "SubscriberInput": {
                "type": "object",
                "description": "The subscriber fields a trigger or an upsert may set; absent fields keep their stored values.",
                "properties": {
                  "id": {
                    "type": "string",
                    "description": "Optional in a PUT body (the URL's id is used); required inline in a trigger."
                  },
                  "name": {
                    "type": "string"
                  },
                  "email": {
                    "type": "string",
                    "format": "email"
                  },
                  "phone": {
                    "type": "string"
                  },
                  "locale": {
                    "type": "string"
                  },
                  "timezone": {
                    "type": "string"
                  },
                  "quiet_hours": {
                    "$ref": "#/components/schemas/QuietHours",
                    "description": "Absent keeps the stored quiet hours; null removes them."
                  },
                  "data": {
                    "type": "object",
                    "additionalProperties": true
                  }
                }
              },
              "SubscriberPage": {
                "type": "object",
                "description": "One page of subscribers.",
                "required": [
                  "data"
                ],
                "properties": {
                  "data": {
                    "type": "array",
                    "items": {
                      "$ref": "#/components/schemas/Subscriber"
                    }
                  },
                  "next_cursor": {
                    "type": "string",
                    "description": "Pass as `cursor` to get the next page; absent on the last page."
                  }
                }
              },
              "SubscriberTokenRequest": {
                "type": "object",
                "additionalProperties": false,
                "properties": {
                  "ttl_seconds": {
                    "type": "number",
                    "minimum": 60,
                    "maximum": 2592000,
                    "default": 86400,
                    "description": "How long the token is valid, from 60 seconds to 30 days."
                  }
                }
              },
              "SubscriberToken": {
                "type": "object",
                "required": [
                  "token",
                  "expires_at",
                  "subscriber_id"
                ],
                "properties": {
                  "token": {
                    "type": "string",
                    "description": "Send as `Authorization: Bearer <token>` (or `?token=`) to the inbox routes."
                  },
                  "expires_at": {
                    "type": "string",
                    "format": "date-time"
                  },
                  "subscriber_id": {
                    "type": "string"
                  }
                }
              },
              "Recipient": {
                "description": "Who a trigger is for: a subscriber id, `{subscriber_id}`, `{topic}`, or an inline subscriber (upserted first).",
                "oneOf": [
                  {
                    "type": "string",
                    "minLength": 1,
                    "description": "A known subscriber's id."
                  },
                  {
                    "type": "object",
                    "title": "Subscriber reference",
                    "required": [
                      "subscriber_id"
                    ],
                    "properties": {
                      "subscriber_id": {
                        "type": "string",
                        "minLength": 1
                      }
                    },
                    "not": {
                      "required": [
                        "topic"
                      ]
                    }
                  },
                  {
                    "type": "object",
                    "title": "Topic",
                    "required": [
                      "topic"
                    ],
                    "properties": {
                      "topic": {
                        "type": "string",
                        "minLength": 1,
                        "maxLength": 128,
                        "pattern": "^[A-Za-z0-9_:.-]+$"
                      }
                    }
                  },
                  {
                    "title": "Inline subscriber",
                    "allOf": [
                      {
                        "$ref": "#/components/schemas/SubscriberInput"
                      },
                      {
                        "type": "object",
                        "required": [
                          "id"
                        ]
                      }
                    ],
                    "not": {
                      "anyOf": [
                        {
                          "required": [
                            "topic"
                          ]
                        },
                        {
                          "required": [
                            "subscriber_id"
                          ]
                        }
                      ]
                    }
                  }
                ]
              },
              "Trigger": {
                "type": "object",
                "description": "One request to notify: an event type, its recipients and its payload. `to` is accepted in place of `recipients`. Recipients may be left out when the event type has an `audience`: its topics and the subscribers named in its payload fields are notified instead.",
                "required": [
                  "type"
                ],
                "properties": {
                  "type": {
                    "type": "string",
                    "description": "An event type key of this tenant.",
                    "examples": [
                      "payment_due"
                    ]
                  },
                  "recipients": {
                    "type": "array",
                    "items": {
                      "$ref": "#/components/schemas/Recipient"
                    },
                    "maxItems": 1000,
                    "description": "Up to 1,000 direct recipients; use a topic for more. May be left out when the event type has an `audience`; recipients given replace it."
                  },
                  "to": {
                    "type": "array",
                    "items": {
                      "$ref": "#/components/schemas/Recipient"
                    },
                    "maxItems": 1000,
                    "description": "Alias of `recipients`; used only when `recipients` is absent."
                  },
                  "payload": {
                    "type": "object",
                    "additionalProperties": true,
                    "description": "Values for the event type's declared parameters."
                  },
                  "actor": {
                    "type": "string",
                    "maxLength": 256,
                    "description": "Who caused the event (a user id, `system`)."
                  },
                  "send_at": {
                    "type": "string",
                    "format": "date-time",
                    "description": "Deliver no earlier than this time (at most a year ahead)."
                  },
                  "delay": {
                    "description": "Deliver this long after the trigger is accepted: `90s`, `15m`, `2h`, `1d`, or seconds as a number. Not together with `send_at`.",
                    "oneOf": [
                      {
                        "type": "string"
                      },
                      {
                        "type": "number"
                      }
                    ]
                  },
                  "cancellation_key": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 255,
                    "description": "Names the workflow the event belongs to, so that all its pending messages can be cancelled at once when it no longer matters (`DELETE /v1/events?cancellation_key=…` or `POST /v1/events/cancel`).",
                    "examples": [
                      "invoice-42-reminders"
                    ]
                  },
                  "attachments": {
                    "type": "array",
                    "maxItems": 10,
                    "items": {
                      "$ref": "#/components/schemas/Attachment"
                    },
                    "description": "Files for the event's emails (the event type's own come first). Stored with the event, so every recipient, a topic fanned out later, a scheduled send and every retry get the same bytes. A trigger's body may exceed the usual size limit by the files' base64; a file that makes it larger than that is named in the 422 (`attachments[0].content`)."
                  }
                }
              },
              "BulkTriggerRequest": {
                "type": "object",
                "additionalProperties": false,
                "required": [
                  "events"
                ],
                "properties": {
                  "events": {
                    "type": "array",
                    "items": {
                      "$ref": "#/components/schemas/Trigger"
                    },
                    "minItems": 1,
                    "maxItems": 1000
                  }
                }
              },
              "EventStatus": {
                "type": "string",
                "enum": [
                  "fanning_out",
                  "planned",
                  "cancelled"
                ],
                "description": "`fanning_out` while topic recipients are still being expanded into messages; `planned` once every message is planned."
              },
              "TriggerReceipt": {
                "type": "object",
                "required": [
                  "event_id",
                  "status",
                  "messages",
                  "topics"
                ],
                "properties": {
                  "event_id": {
                    "type": "string",
                    "examples": [
                      "ev_01hx3k9m2a"
                    ]
                  },
                  "status": {
                    "$ref": "#/components/schemas/EventStatus"
                  },
                  "messages": {
                    "type": "object",
                    "additionalProperties": {
                      "type": "integer"
                    },
                    "description": "Planned messages for direct recipients by status (`queued`, `suppressed`)."
                  },
                  "topics": {
                    "type": "array",
                    "items": {
                      "type": "string"
                    },
                    "description": "Topics that fan out afterwards."
                  },
                  "workflow_runs": {
                    "type": "integer",
                    "description": "For an event type with a workflow: the runs started for direct recipients (their messages are planned step by step, so `messages` starts empty)."
                  }
                }
              },
              "TriggerReceiptList": {
                "type": "object",
                "description": "One receipt per trigger, in request order.",
                "required": [
                  "data"
                ],
                "properties": {
                  "data": {
                    "type": "array",
                    "items": {
                      "$ref": "#/components/schemas/TriggerReceipt"
                    }
                  }
                }
              },
              "Event": {
                "type": "object",
                "description": "One trigger as stored.",
                "required": [
                  "id",
                  "type",
                  "priority",
                  "status",
                  "payload",
                  "created_at",
                  "expires_at"
                ],
                "properties": {
                  "id": {
                    "type": "string"
                  },
                  "type": {
                    "type": "string"
                  },
                  "priority": {
                    "$ref": "#/components/schemas/Priority"
                  },
                  "status": {
                    "$ref": "#/components/schemas/EventStatus"
                  },
                  "payload": {
                    "type": "object",
                    "additionalProperties": true
                  },
                  "actor": {
                    "type": "string"
                  },
                  "created_at": {
                    "type": "string",
                    "format": "date-time"
                  },
                  "send_at": {
                    "type": "string",
                    "format": "date-time"
                  },
                  "expires_at": {
                    "type": "string",
                    "format": "date-time",
                    "description": "When the event and its messages are deleted."
                  },
                  "cancellation_key": {
                    "type": "string",
                    "description": "The trigger's cancellation key."
                  }
                }
              },
              "EventDetails": {
                "description": "The event's fields, plus its message counts by status and one page of its messages.",
                "allOf": [
                  {
                    "$ref": "#/components/schemas/Event"
                  },
                  {
                    "type": "object",
                    "required": [
                      "counts",
                      "messages"
                    ],
                    "properties": {
                      "counts": {
                        "type": "object",
                        "propertyNames": {
                          "$ref": "#/components/schemas/MessageStatus"
                        },
                        "additionalProperties": {
                          "type": "integer"
                        }
                      },
                      "messages": {
                        "type": "array",
                        "items": {
                          "$ref": "#/components/schemas/Message"
                        }
                      },
                      "next_cursor": {
                        "type": "string",
                        "description": "Pass as `cursor` for the next page of messages."
                      },
                      "workflow": {
                        "type": "object",
                        "description": "For an event type with a workflow: runs by status (and completed ones by outcome, `completed.read`), and the first page of runs.",
                        "required": [
                          "counts",
                          "runs"
                        ],
                        "properties": {
                          "counts": {
                            "type": "object",
                            "additionalProperties": {
                              "type": "integer"
                            }
                          },
                          "runs": {
                            "type": "array",
                            "items": {
                              "$ref": "#/components/schemas/WorkflowRun"
                            }
                          },
                          "next_cursor": {
                            "type": "string",
                            "description": "More runs: `GET /v1/events/{id}/runs?cursor=`."
                          }
                        }
                      },
                      "attachments": {
                        "type": "array",
                        "items": {
                          "$ref": "#/components/schemas/AttachmentSummary"
                        },
                        "description": "The files the event's emails carry (present when there are any)."
                      }
                    }
                  }
                ]
              },
              "CancelResult": {
                "type": "object",
                "required": [
                  "cancelled"
                ],
                "properties": {
                  "cancelled": {
                    "type": "integer",
                    "description": "How many messages were cancelled."
                  }
                }
              },
              "CancellationResult": {
                "type": "object",
                "description": "What cancelling by a cancellation key stopped.",
                "required": [
                  "event_ids",
                  "cancelled"
                ],
                "properties": {
                  "event_ids": {
                    "type": "array",
                    "items": {
                      "type": "string"
                    },
                    "description": "The events holding the key that were not already cancelled; empty when none matched."
                  },
                  "cancelled": {
                    "type": "integer",
                    "description": "How many of their messages were cancelled before going out."
                  }
                }
              },
              "MessageStatus": {
                "type": "string",
                "enum": [
                  "queued",
                  "sending",
                  "sent",
                  "delivered",
                  "failed",
                  "dead_lettered",
                  "suppressed",
                  "cancelled",
                  "merged"
                ],
                "description": "`queued` and `sending` are work in progress; `dead_lettered` means transient failures exhausted the attempt limit; `suppressed` messages were deliberately not sent (see `reason`); `merged` messages were collected into a digest and go out as items of the digest's own message (`digest_message_id`)."
              },
              "SuppressionReason": {
                "type": "string",
                "enum": [
                  "preference",
                  "unsubscribed",
                  "duplicate",
                  "rate_limited",
                  "no_address",
                  "recipient_not_allowed",
                  "bounced",
                  "complained",
                  "suppression_list"
                ],
                "description": "Why a message was suppressed, recorded in its `reason`."
              },
              "Message": {
                "type": "object",
                "description": "One recipient × one channel of an event, with its state.",
                "required": [
                  "id",
                  "event_id",
                  "event_type",
                  "subscriber_id",
                  "channel",
                  "priority",
                  "status",
                  "attempts",
                  "created_at",
                  "updated_at"
                ],
                "properties": {
                  "id": {
                    "type": "string",
                    "examples": [
                      "msg_1042"
                    ]
                  },
                  "event_id": {
                    "type": "string"
                  },
                  "event_type": {
                    "type": "string"
                  },
                  "subscriber_id": {
                    "type": "string"
                  },
                  "channel": {
                    "$ref": "#/components/schemas/Channel"
                  },
                  "priority": {
                    "$ref": "#/components/schemas/Priority"
                  },
                  "status": {
                    "$ref": "#/components/schemas/MessageStatus"
                  },
                  "reason": {
                    "type": "string",
                    "description": "For `suppressed`, one of the suppression words (preference, unsubscribed, duplicate, rate_limited, no_address, recipient_not_allowed); for failures, a short reason. A `queued` message held back shows why while it waits (quiet_hours, digest, rate_limited; see `held_until`); a `merged` message shows digest.",
                    "examples": [
                      "preference",
                      "unsubscribed",
                      "duplicate",
                      "rate_limited",
                      "no_address",
                      "recipient_not_allowed",
                      "quiet_hours",
                      "digest"
                    ]
                  },
                  "attempts": {
                    "type": "integer"
                  },
                  "last_error": {
                    "type": "string"
                  },
                  "created_at": {
                    "type": "string",
                    "format": "date-time"
                  },
                  "updated_at": {
                    "type": "string",
                    "format": "date-time"
                  },
                  "available_at": {
                    "type": "string",
                    "format": "date-time",
                    "description": "When the message is due (while sending, when its lease runs out)."
                  },
                  "sent_at": {
                    "type": "string",
                    "format": "date-time"
                  },
                  "held_until": {
                    "type": "string",
                    "format": "date-time",
                    "description": "For a `queued` or `merged` message held back (quiet hours, a digest, a rate limit, a send time): until when."
                  },
                  "duplicate_of": {
                    "type": "string",
                    "description": "For reason `duplicate`: the message of the original event on the same channel."
                  },
                  "digest_message_id": {
                    "type": "string",
                    "description": "For a message merged into a digest, and for a digest's own message: the digest's message."
                  },
                  "opened_at": {
                    "type": "string",
                    "format": "date-time",
                    "description": "Email with open tracking: the first time its pixel was loaded. Mail privacy proxies (Apple Mail Privacy Protection) load it for every email they receive, so an open is a hint, not proof."
                  },
                  "open_count": {
                    "type": "integer",
                    "description": "Email only: opens, repeats included (0 without tracking)."
                  },
                  "clicked_at": {
                    "type": "string",
                    "format": "date-time",
                    "description": "The first click: on a tracked link of an email, or on an in-app item's link (`POST /v1/inbox/{id}/click`)."
                  },
                  "click_count": {
                    "type": "integer",
                    "description": "Email only: clicks on its tracked links, repeats included (0 without tracking)."
                  }
                }
              },
              "DeliveryAttempt": {
                "type": "object",
                "description": "One try at delivering a message.",
                "required": [
                  "number",
                  "started_at",
                  "duration_ms",
                  "outcome"
                ],
                "properties": {
                  "number": {
                    "type": "integer"
                  },
                  "started_at": {
                    "type": "string",
                    "format": "date-time"
                  },
                  "duration_ms": {
                    "type": "number"
                  },
                  "outcome": {
                    "type": "string",
                    "enum": [
                      "delivered",
                      "sent",
                      "transient_failure",
                      "permanent_failure"
                    ]
                  },
                  "detail": {
                    "type": "string",
                    "description": "The provider's answer or the error; never a secret."
                  }
                }
              },
              "MessageWithAttempts": {
                "description": "A message's fields (attempts is the count) plus the record of each delivery attempt.",
                "allOf": [
                  {
                    "$ref": "#/components/schemas/Message"
                  },
                  {
                    "type": "object",
                    "required": [
                      "attempt_log"
                    ],
                    "properties": {
                      "attempt_log": {
                        "type": "array",
                        "items": {
                          "$ref": "#/components/schemas/DeliveryAttempt"
                        }
                      },
                      "email_feedback": {
                        "type": "array",
                        "items": {
                          "$ref": "#/components/schemas/EmailFeedback"
                        },
                        "description": "Email messages only: bounces and complaints that came back about it."
                      }
                    }
                  }
                ]
              },
              "MessagePage": {
                "type": "object",
                "description": "One page of messages.",
                "required": [
                  "data"
                ],
                "properties": {
                  "data": {
                    "type": "array",
                    "items": {
                      "$ref": "#/components/schemas/Message"
                    }
                  },
                  "next_cursor": {
                    "type": "string",
                    "description": "Pass as `cursor` to get the next page; absent on the last page."
                  }
                }
              },
              "InboxFilter": {
                "type": "string",
                "enum": [
                  "active",
                  "unread",
                  "read",
                  "archived",
                  "all"
                ],
                "description": "`active` is everything not archived; `all` includes archived items."
              },
              "InboxItem": {
                "type": "object",
                "description": "An in-app message as its subscriber sees it.",
                "required": [
                  "id",
                  "event_type",
                  "title",
                  "body",
                  "created_at"
                ],
                "properties": {
                  "id": {
                    "type": "string",
                    "examples": [
                      "msg_1042"
                    ]
                  },
                  "event_type": {
                    "type": "string"
                  },
                  "title": {
                    "type": "string"
                  },
                  "body": {
                    "type": "string"
                  },
                  "action_url": {
                    "type": "string"
                  },
                  "created_at": {
                    "type": "string",
                    "format": "date-time"
                  },
                  "seen_at": {
                    "type": "string",
                    "format": "date-time"
                  },
                  "read_at": {
                    "type": "string",
                    "format": "date-time"
                  },
                  "archived_at": {
                    "type": "string",
                    "format": "date-time"
                  },
                  "clicked_at": {
                    "type": "string",
                    "format": "date-time",
                    "description": "When the subscriber followed the item's link (`POST /v1/inbox/{id}/click`)."
                  }
                }
              },
              "InboxPage": {
                "type": "object",
                "description": "One page of inbox items.",
                "required": [
                  "data"
                ],
                "properties": {
                  "data": {
                    "type": "array",
                    "items": {
                      "$ref": "#/components/schemas/InboxItem"
                    }
                  },
                  "next_cursor": {
                    "type": "string",
                    "description": "Pass as `cursor` to get the next page; absent on the last page."
                  }
                }
              },
              "InboxCounts": {
                "type": "object",
                "description": "The numbers a bell shows.",
                "required": [
                  "unread",
                  "unseen",
                  "total"
                ],
                "properties": {
                  "unread": {
                    "type": "integer"
                  },
                  "unseen": {
                    "type": "integer"
                  },
                  "total": {
                    "type": "integer"
                  }
                }
              },
              "PreferenceRule": {
                "type": "object",
                "description": "One on/off rule: event type (or `*`) × channel (or `*`).",
                "required": [
                  "enabled"
                ],
                "properties": {
                  "event_type": {
                    "type": "string",
                    "default": "*",
                    "description": "An event type key, or `*` for every type."
                  },
                  "channel": {
                    "type": "string",
                    "enum": [
                      "*",
                      "in_app",
                      "email",
                      "sms",
                      "webhook",
                      "chat",
                      "push"
                    ],
                    "default": "*",
                    "description": "A channel, or `*` for every channel."
                  },
                  "enabled": {
                    "type": "boolean"
                  },
                  "unsubscribed": {
                    "type": "boolean",
                    "readOnly": true,
                    "description": "Present and true when the rule was written by an email's unsubscribe link; ignored on input, and any later change to the rule clears it."
                  },
                  "digest": {
                    "$ref": "#/components/schemas/DigestSpec",
                    "description": "Asks for a digest (a window or a schedule) instead of immediate delivery. Honoured for low-priority event types; others are delivered as they come. Subscriber rules only."
                  }
                }
              },
              "PreferenceRules": {
                "type": "object",
                "required": [
                  "rules"
                ],
                "properties": {
                  "rules": {
                    "type": "array",
                    "items": {
                      "$ref": "#/components/schemas/PreferenceRule"
                    }
                  }
                }
              },
              "EffectivePreference": {
                "type": "object",
                "description": "The resolved answer for one event type × channel.",
                "required": [
                  "event_type",
                  "channel",
                  "enabled",
                  "source"
                ],
                "properties": {
                  "event_type": {
                    "type": "string"
                  },
                  "channel": {
                    "$ref": "#/components/schemas/Channel"
                  },
                  "enabled": {
                    "type": "boolean"
                  },
                  "source": {
                    "type": "string",
                    "enum": [
                      "critical",
                      "subscriber",
                      "unsubscribed",
                      "tenant",
                      "event_type",
                      "default"
                    ],
                    "description": "Where the answer came from, most specific first. `unsubscribed` is a subscriber rule written by an email's unsubscribe link."
                  }
                }
              },
              "SubscriberPreferences": {
                "type": "object",
                "required": [
                  "subscriber_id",
                  "rules",
                  "effective"
                ],
                "properties": {
                  "subscriber_id": {
                    "type": "string"
                  },
                  "rules": {
                    "type": "array",
                    "items": {
                      "$ref": "#/components/schemas/PreferenceRule"
                    },
                    "description": "The subscriber's own rules."
                  },
                  "effective": {
                    "type": "array",
                    "items": {
                      "$ref": "#/components/schemas/EffectivePreference"
                    }
                  },
                  "preferences_url": {
                    "type": "string",
                    "format": "uri",
                    "description": "A signed link to the subscriber's own preference centre (`/preferences?token=…`), for email footers and app menus. It does not expire."
                  }
                }
              },
              "QuietHours": {
                "type": [
                  "object",
                  "null"
                ],
                "description": "A daily window in the subscriber's time zone during which non-critical messages are held, then delivered when it ends. An end before the start spans midnight.",
                "required": [
                  "start",
                  "end"
                ],
                "properties": {
                  "start": {
                    "type": "string",
                    "pattern": "^[0-2][0-9]:[0-5][0-9]$",
                    "description": "Local start, HH:MM (24-hour).",
                    "examples": [
                      "22:00"
                    ]
                  },
                  "end": {
                    "type": "string",
                    "pattern": "^[0-2][0-9]:[0-5][0-9]$",
                    "description": "Local end, HH:MM; must differ from start.",
                    "examples": [
                      "07:00"
                    ]
                  },
                  "channels": {
                    "type": "array",
                    "items": {
                      "type": "string",
                      "enum": [
                        "in_app",
                        "email",
                        "sms",
                        "webhook",
                        "chat",
                        "push"
                      ]
                    },
                    "description": "The channels held; absent or empty holds every channel."
                  }
                }
              },
              "PreferenceCentre": {
                "type": "object",
                "description": "A subscriber's own view of their settings, grouped by category.",
                "required": [
                  "subscriber_id",
                  "quiet_hours",
                  "channels",
                  "categories"
                ],
                "properties": {
                  "subscriber_id": {
                    "type": "string"
                  },
                  "locale": {
                    "type": [
                      "string",
                      "null"
                    ]
                  },
                  "timezone": {
                    "type": [
                      "string",
                      "null"
                    ],
                    "description": "IANA time zone of the quiet hours."
                  },
                  "quiet_hours": {
                    "$ref": "#/components/schemas/QuietHours"
                  },
                  "channels": {
                    "type": "array",
                    "items": {
                      "type": "string"
                    },
                    "description": "Every channel some event type uses, in a stable order."
                  },
                  "categories": {
                    "type": "array",
                    "items": {
                      "type": "object",
                      "required": [
                        "key",
                        "event_types"
                      ],
                      "properties": {
                        "key": {
                          "type": "string",
                          "description": "The catalog's category, or `other`."
                        },
                        "event_types": {
                          "type": "array",
                          "items": {
                            "type": "object",
                            "required": [
                              "key",
                              "name",
                              "priority",
                              "critical",
                              "channels"
                            ],
                            "properties": {
                              "key": {
                                "type": "string"
                              },
                              "name": {
                                "type": "string"
                              },
                              "description": {
                                "type": "string"
                              },
                              "priority": {
                                "type": "string",
                                "enum": [
                                  "critical",
                                  "high",
                                  "medium",
                                  "low"
                                ]
                              },
                              "critical": {
                                "type": "boolean",
                                "description": "Always on: critical types bypass preferences."
                              },
                              "channels": {
                                "type": "array",
                                "items": {
                                  "type": "object",
                                  "required": [
                                    "channel",
                                    "enabled",
                                    "source",
                                    "editable"
                                  ],
                                  "properties": {
                                    "channel": {
                                      "type": "string"
                                    },
                                    "enabled": {
                                      "type": "boolean"
                                    },
                                    "source": {
                                      "type": "string",
                                      "enum": [
                                        "critical",
                                        "subscriber",
                                        "unsubscribed",
                                        "tenant",
                                        "event_type",
                                        "default"
                                      ]
                                    },
                                    "editable": {
                                      "type": "boolean"
                                    }
                                  }
                                }
                              }
                            }
                          }
                        }
                      }
                    }
                  }
                }
              },
              "PreferenceCentreUpdate": {
                "type": "object",
                "additionalProperties": false,
                "description": "A subscriber's change to their own settings; absent fields stay as they are.",
                "properties": {
                  "rules": {
                    "type": "array",
                    "items": {
                      "$ref": "#/components/schemas/PreferenceRule"
                    },
                    "description": "Merged into the subscriber's own rules."
                  },
                  "timezone": {
                    "type": "string",
                    "description": "IANA time zone, such as Europe/Paris."
                  },
                  "quiet_hours": {
                    "$ref": "#/components/schemas/QuietHours",
                    "description": "null removes the quiet hours."
                  }
                },
                "examples": [
                  {
                    "rules": [
                      {
                        "event_type": "newsletter",
                        "channel": "email",
                        "enabled": false
                      }
                    ],
                    "timezone": "Europe/Paris",
                    "quiet_hours": {
                      "start": "22:00",
                      "end": "07:00"
                    }
                  }
                ]
              },
              "Topic": {
                "type": "object",
                "description": "A named list of subscribers: a fan-out target that can hold millions.",
                "required": [
                  "key",
                  "member_count"
                ],
                "properties": {
                  "key": {
                    "type": "string"
                  },
                  "name": {
                    "type": "string"
                  },
                  "member_count": {
                    "type": "integer"
                  },
                  "created_at": {
                    "type": "string",
                    "format": "date-time"
                  }
                }
              },
              "TopicInput": {
                "type": "object",
                "additionalProperties": false,
                "properties": {
                  "name": {
                    "type": "string",
                    "description": "A display name."
                  }
                }
              },
              "TopicPage": {
                "type": "object",
                "description": "One page of topics.",
                "required": [
                  "data"
                ],
                "properties": {
                  "data": {
                    "type": "array",
                    "items": {
                      "$ref": "#/components/schemas/Topic"
                    }
                  },
                  "next_cursor": {
                    "type": "string",
                    "description": "Pass as `cursor` to get the next page; absent on the last page."
                  }
                }
              },
              "TopicMemberPage": {
                "type": "object",
                "description": "One page of member subscriber ids.",
                "required": [
                  "data"
                ],
                "properties": {
                  "data": {
                    "type": "array",
                    "items": {
                      "type": "string",
                      "description": "A subscriber id."
                    }
                  },
                  "next_cursor": {
                    "type": "string",
                    "description": "Pass as `cursor` to get the next page; absent on the last page."
                  }
                }
              },
              "TopicMembersRequest": {
                "type": "object",
                "additionalProperties": false,
                "required": [
                  "subscribers"
                ],
                "properties": {
                  "subscribers": {
                    "type": "array",
                    "items": {
                      "type": "string"
                    },
                    "maxItems": 10000,
                    "description": "Subscriber ids."
                  }
                }
              },
              "TopicMembersAdded": {
                "type": "object",
                "required": [
                  "added"
                ],
                "properties": {
                  "added": {
                    "type": "integer"
                  }
                }
              },
              "TopicMembersRemoved": {
                "type": "object",
                "required": [
                  "removed"
                ],
                "properties": {
                  "removed": {
                    "type": "integer"
                  }
                }
              },
              "EventPage": {
                "type": "object",
                "required": [
                  "data"
                ],
                "properties": {
                  "data": {
                    "type": "array",
                    "items": {
                      "$ref": "#/components/schemas/Event"
                    }
                  },
                  "next_cursor": {
                    "type": "string",
                    "description": "Pass as `cursor` for the next page; absent on the last page."
                  }
                }
              },
              "SubscriberBulkRequest": {
                "type": "object",
                "additionalProperties": false,
                "required": [
                  "subscribers"
                ],
                "properties": {
                  "subscribers": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 10000,
                    "items": {
                      "$ref": "#/components/schemas/SubscriberInput"
                    }
                  }
                }
              },
              "SubscriberBulkResult": {
                "type": "object",
                "required": [
                  "created",
                  "updated"
                ],
                "properties": {
                  "created": {
                    "type": "integer"
                  },
                  "updated": {
                    "type": "integer"
                  }
                }
              },
              "TopicMembersAddRequest": {
                "type": "object",
                "additionalProperties": false,
                "required": [
                  "subscribers"
                ],
                "properties": {
                  "subscribers": {
                    "type": "array",
                    "maxItems": 10000,
                    "items": {
                      "oneOf": [
                        {
                          "type": "string",
                          "description": "An existing subscriber's id."
                        },
                        {
                          "$ref": "#/components/schemas/SubscriberInput"
                        }
                      ]
                    }
                  }
                }
              },
              "SMTPServer": {
                "type": "object",
                "description": "An SMTP server the tenant's email goes through.",
                "required": [
                  "host"
                ],
                "properties": {
                  "host": {
                    "type": "string",
                    "example": "smtp.maplecourt.example"
                  },
                  "port": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": 65535,
                    "description": "Defaults to 465 with `security: tls`, else 587."
                  },
                  "security": {
                    "type": "string",
                    "enum": [
                      "starttls",
                      "tls",
                      "opportunistic",
                      "none"
                    ],
                    "default": "opportunistic",
                    "description": "`starttls`: STARTTLS required; `tls`: TLS from the first byte (SMTPS); `opportunistic` (the default): STARTTLS whenever offered, plain otherwise, never AUTH without TLS; `none`: never TLS (loopback test servers only)."
                  },
                  "username": {
                    "type": "string",
                    "description": "Given together with `password`."
                  },
                  "password": {
                    "type": "string",
                    "writeOnly": true,
                    "description": "Never returned: answers show `********` when one is set. Sending `********` back keeps the stored password."
                  },
                  "trusted_certificates_pem": {
                    "type": "string",
                    "description": "PEM certificates to trust besides the system's (a private CA or a self-signed server)."
                  },
                  "verify_certificates": {
                    "type": "boolean",
                    "default": true
                  },
                  "helo_name": {
                    "type": "string",
                    "description": "The name given in EHLO; defaults to the machine's host name."
                  },
                  "max_connections": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": 64,
                    "default": 4
                  },
                  "idle_timeout_seconds": {
                    "type": "number",
                    "exclusiveMinimum": 0,
                    "default": 30
                  },
                  "timeout_seconds": {
                    "type": "number",
                    "exclusiveMinimum": 0,
                    "default": 30
                  }
                }
              },
              "EmailLayout": {
                "type": "object",
                "description": "The frame every email of the tenant is wrapped in. `header_html` and `footer_html` are Mustache templates with the same data as the message.",
                "properties": {
                  "brand_color": {
                    "type": "string",
                    "pattern": "^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$",
                    "example": "#0b5cad"
                  },
                  "header_html": {
                    "type": "string"
                  },
                  "footer_html": {
                    "type": "string"
                  },
                  "logo_url": {
                    "type": "string",
                    "format": "uri",
                    "description": "An absolute http or https URL."
                  }
                }
              },
              "EmailSettings": {
                "type": "object",
                "description": "A tenant's email settings. Every field is optional; what is left out comes from the server's defaults.",
                "properties": {
                  "from_address": {
                    "type": "string",
                    "format": "email",
                    "example": "notices@maplecourt.example"
                  },
                  "from_name": {
                    "type": "string",
                    "description": "No line breaks.",
                    "example": "Maple Court"
                  },
                  "reply_to": {
                    "type": "string",
                    "format": "email"
                  },
                  "smtp": {
                    "$ref": "#/components/schemas/SMTPServer"
                  },
                  "layout": {
                    "$ref": "#/components/schemas/EmailLayout"
                  },
                  "allowed_recipient_domains": {
                    "type": "array",
                    "items": {
                      "type": "string",
                      "example": "hospital.example"
                    },
                    "description": "When non-empty, email goes only to addresses in these domains (subdomains included); other addresses are suppressed with reason `recipient_not_allowed`."
                  },
                  "unsubscribe_mailto": {
                    "type": "string",
                    "format": "email",
                    "description": "A mailbox that takes unsubscribe requests by mail, listed in `List-Unsubscribe` beside the link."
                  },
                  "smtp_fallback": {
                    "allOf": [
                      {
                        "$ref": "#/components/schemas/SMTPServer"
                      }
                    ],
                    "description": "A second SMTP server that takes over when `smtp` cannot be reached (its circuit is open). Requires `smtp`."
                  },
                  "dkim": {
                    "$ref": "#/components/schemas/DKIMSettings"
                  },
                  "bounce_domain": {
                    "type": "string",
                    "example": "bounces.maplecourt.example",
                    "description": "The domain of every email's VERP return path (`bounces+<signed message id>@<domain>`); its MX points at Herald's inbound listener (`email.inbound`). Left out: the server's `email.bounce_domain`; with neither, the From address is the return path."
                  },
                  "soft_bounce_threshold": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": 1000,
                    "default": 3,
                    "description": "How many soft bounces (within 30 days, since the address was last lifted) put an address on the suppression list."
                  },
                  "send_critical_to_suppressed": {
                    "type": "boolean",
                    "default": false,
                    "description": "Whether critical emails still go to an address on the suppression list."
                  },
                  "transports": {
                    "type": "array",
                    "maxItems": 5,
                    "minItems": 1,
                    "items": {
                      "$ref": "#/components/schemas/EmailTransport"
                    },
                    "description": "The failover chain in order; a link that cannot take email now passes it to the next without spending an attempt. Instead of smtp and smtp_fallback."
                  },
                  "tracking": {
                    "type": "object",
                    "additionalProperties": false,
                    "properties": {
                      "opens": {
                        "type": "boolean"
                      },
                      "clicks": {
                        "type": "boolean"
                      }
                    },
                    "description": "Open and click tracking (off by default; never for critical email). An event type's `tracking` overrides it."
                  }
                }
              },
              "ChatSettings": {
                "type": "object",
                "description": "A tenant's chat webhooks, in failover order.",
                "required": [
                  "webhooks"
                ],
                "properties": {
                  "webhooks": {
                    "type": "array",
                    "maxItems": 10,
                    "items": {
                      "$ref": "#/components/schemas/ChatWebhook"
                    }
                  }
                }
              },
              "ChatWebhook": {
                "type": "object",
                "required": [
                  "url"
                ],
                "properties": {
                  "provider": {
                    "type": "string",
                    "enum": [
                      "slack",
                      "teams",
                      "discord"
                    ],
                    "description": "The service; inferred from the URL's host when left out, required for other hosts (a Slack-compatible server, say)."
                  },
                  "url": {
                    "type": "string",
                    "format": "uri",
                    "description": "The incoming-webhook URL (a Teams workflow's \"When a Teams webhook request is received\" URL). A secret: answers show `https://host/********`.",
                    "example": "https://hooks.slack.com/services/T000/B000/XXXX"
                  },
                  "name": {
                    "type": "string",
                    "maxLength": 100,
                    "description": "A label shown in attempt details, since the URL never is.",
                    "example": "#front-desk"
                  }
                }
              },
              "SMSSettings": {
                "type": "object",
                "description": "A tenant's SMS providers in failover order, and the segment cap. With no providers, the server's (herald.yml `sms:`, `HERALD_SMS_*`) are used.",
                "properties": {
                  "providers": {
                    "type": "array",
                    "maxItems": 5,
                    "items": {
                      "$ref": "#/components/schemas/SMSProvider"
                    }
                  },
                  "max_segments": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": 10,
                    "description": "Longer texts are cut, with an ellipsis (`...` in GSM-7, `…` in UCS-2), to fit in this many segments. Default 10."
                  }
                }
              },
              "SMSProvider": {
                "type": "object",
                "description": "One provider account. `twilio`: Twilio's Messages API or a compatible one (`account_sid`, `auth_token`, and `from` or `messaging_service_sid`; `base_url` defaults to https://api.twilio.com). `json`: a gateway that takes `POST url` with `{\"to\", \"from\", \"text\"}` and an optional `auth_header: auth_value` header. Fields of the other type are refused.",
                "required": [
                  "type"
                ],
                "properties": {
                  "type": {
                    "type": "string",
                    "enum": [
                      "twilio",
                      "json"
                    ]
                  },
                  "name": {
                    "type": "string",
                    "description": "A label shown in attempt details.",
                    "example": "twilio-eu"
                  },
                  "from": {
                    "type": "string",
                    "description": "An E.164 number, a short code (3 to 8 digits) or an alphanumeric sender ID (up to 11 characters).",
                    "example": "+15017122661"
                  },
                  "account_sid": {
                    "type": "string",
                    "pattern": "^AC[0-9a-fA-F]{32}$"
                  },
                  "auth_token": {
                    "type": "string",
                    "writeOnly": true,
                    "description": "Shown as `********`; send that back to keep the stored token."
                  },
                  "messaging_service_sid": {
                    "type": "string",
                    "pattern": "^MG[0-9a-fA-F]{32}$"
                  },
                  "base_url": {
                    "type": "string",
                    "format": "uri",
                    "example": "https://api.twilio.com"
                  },
                  "url": {
                    "type": "string",
                    "format": "uri",
                    "example": "https://sms.example.net/v1/messages"
                  },
                  "auth_header": {
                    "type": "string",
                    "description": "Header that carries `auth_value`; default `Authorization`.",
                    "example": "X-Api-Key"
                  },
                  "auth_value": {
                    "type": "string",
                    "writeOnly": true,
                    "description": "Shown as `********`; send that back to keep the stored value.",
                    "example": "Bearer sk_live_…"
                  }
                }
              },
              "SMSSettingsView": {
                "allOf": [
                  {
                    "$ref": "#/components/schemas/SMSSettings"
                  },
                  {
                    "type": "object",
                    "required": [
                      "effective"
                    ],
                    "properties": {
                      "effective": {
                        "$ref": "#/components/schemas/EffectiveSMSSettings"
                      }
                    }
                  }
                ]
              },
              "EffectiveSMSSettings": {
                "type": "object",
                "readOnly": true,
                "description": "The providers sending will use and the segment cap in force. Holds no credentials.",
                "required": [
                  "source",
                  "providers",
                  "max_segments"
                ],
                "properties": {
                  "source": {
                    "type": "string",
                    "enum": [
                      "tenant",
                      "server",
                      "none"
                    ],
                    "description": "`none`: no provider anywhere, so SMS messages fail."
                  },
                  "providers": {
                    "type": "array",
                    "items": {
                      "type": "object",
                      "properties": {
                        "type": {
                          "type": "string",
                          "enum": [
                            "twilio",
                            "json"
                          ]
                        },
                        "name": {
                          "type": "string"
                        },
                        "host": {
                          "type": "string"
                        },
                        "from": {
                          "type": "string",
                          "description": "The sender number or messaging service SID."
                        }
                      }
                    }
                  },
                  "max_segments": {
                    "type": "integer"
                  }
                }
              },
              "EffectiveEmailSettings": {
                "type": "object",
                "readOnly": true,
                "description": "What sending actually uses once the server's defaults fill what the tenant left out. Holds no credentials.",
                "required": [
                  "from_address",
                  "from_name",
                  "reply_to",
                  "unsubscribe_mailto",
                  "transport",
                  "smtp"
                ],
                "properties": {
                  "from_address": {
                    "type": "string"
                  },
                  "from_name": {
                    "type": [
                      "string",
                      "null"
                    ]
                  },
                  "reply_to": {
                    "type": [
                      "string",
                      "null"
                    ]
                  },
                  "unsubscribe_mailto": {
                    "type": [
                      "string",
                      "null"
                    ]
                  },
                  "transport": {
                    "type": "string",
                    "enum": [
                      "smtp",
                      "outbox"
                    ],
                    "description": "`outbox` when no SMTP server is configured and email is written to files on the server."
                  },
                  "smtp": {
                    "oneOf": [
                      {
                        "type": "object",
                        "required": [
                          "host",
                          "port",
                          "security",
                          "source"
                        ],
                        "properties": {
                          "host": {
                            "type": "string"
                          },
                          "port": {
                            "type": "integer"
                          },
                          "security": {
                            "type": "string",
                            "enum": [
                              "starttls",
                              "tls",
                              "opportunistic",
                              "none"
                            ]
                          },
                          "source": {
                            "type": "string",
                            "enum": [
                              "tenant",
                              "server"
                            ],
                            "description": "The tenant's own server, or the server-wide default."
                          }
                        }
                      },
                      {
                        "type": "null"
                      }
                    ]
                  }
                }
              },
              "EmailSettingsView": {
                "description": "The stored settings with the SMTP password shown as `********`, plus the read-only `effective` settings.",
                "allOf": [
                  {
                    "$ref": "#/components/schemas/EmailSettings"
                  },
                  {
                    "type": "object",
                    "required": [
                      "effective"
                    ],
                    "properties": {
                      "effective": {
                        "$ref": "#/components/schemas/EffectiveEmailSettings"
                      }
                    }
                  }
                ]
              },
              "DeliveryStatusEvent": {
                "type": "string",
                "enum": [
                  "message.sent",
                  "message.delivered",
                  "message.failed",
                  "message.read",
                  "message.bounced",
                  "message.complained",
                  "message.opened",
                  "message.clicked",
                  "workflow.completed"
                ],
                "description": "A message status change a status endpoint can receive: a provider accepted the message (`message.sent`); it reached the subscriber, in the inbox or at a webhook receiver (`message.delivered`); it ended `failed` or `dead_lettered` (`message.failed`); the subscriber read the in-app message, alone or by read-all (`message.read`); a sent email bounced, hard or soft (`message.bounced`), or its recipient reported it as spam (`message.complained`), each with `feedback`, `address` and whether the address is now `suppressed`. A tracked email was opened for the first time (`message.opened`, once per message) or one of its links was followed (`message.clicked`, each click, with the link's `url`). `workflow.completed`: a recipient's workflow run ended (`status`, `outcome`: finished, what cut a wait short, or why it stopped)."
              },
              "WebhookEndpoint": {
                "type": "object",
                "required": [
                  "url"
                ],
                "properties": {
                  "url": {
                    "type": "string",
                    "format": "uri",
                    "example": "https://hooks.maplecourt.example/herald"
                  },
                  "secrets": {
                    "type": "array",
                    "maxItems": 5,
                    "items": {
                      "type": "string",
                      "description": "A Standard Webhooks secret: `whsec_` and the base64 of 24 to 64 bytes; or, as GET shows it, redacted (`whsec_AbCdEf********`).",
                      "example": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
                    },
                    "description": "Each signs every request (one `v1,` signature per secret). Left out: the URL's stored secrets, or a new one."
                  },
                  "events": {
                    "type": "array",
                    "items": {
                      "$ref": "#/components/schemas/DeliveryStatusEvent"
                    },
                    "description": "Status endpoints only, and required there: the events this endpoint receives."
                  },
                  "disabled_at": {
                    "type": "string",
                    "format": "date-time",
                    "description": "Set by Herald when the endpoint answered `410 Gone`; nothing is sent while it is set."
                  },
                  "disabled_reason": {
                    "type": "string",
                    "example": "HTTP 410: gone at 2026-03-01T09:00:00.000Z"
                  }
                }
              },
              "WebhookSettings": {
                "type": "object",
                "description": "A tenant's webhooks. Every list may be left out (empty).",
                "properties": {
                  "endpoints": {
                    "type": "array",
                    "maxItems": 10,
                    "items": {
                      "$ref": "#/components/schemas/WebhookEndpoint"
                    },
                    "description": "Where the webhook channel posts messages of subscribers without a `data.webhook_url`, in failover order: the first enabled endpoint whose circuit is closed gets each message; while it is down the next takes over."
                  },
                  "subscriber_secrets": {
                    "type": "array",
                    "maxItems": 5,
                    "items": {
                      "type": "string",
                      "description": "A Standard Webhooks secret: `whsec_` and the base64 of 24 to 64 bytes; or, as GET shows it, redacted (`whsec_AbCdEf********`).",
                      "example": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
                    },
                    "description": "Sign posts to subscribers' own `data.webhook_url` (all subscribers of the tenant share them). Until the tenant has one, such messages fail rather than go unsigned."
                  },
                  "status_endpoints": {
                    "type": "array",
                    "maxItems": 10,
                    "items": {
                      "$ref": "#/components/schemas/WebhookEndpoint"
                    },
                    "description": "Receivers of delivery-status webhooks; each gets its own signed copy of the events it subscribes to, retried until it takes it."
                  }
                }
              },
              "WebhookEndpointView": {
                "allOf": [
                  {
                    "$ref": "#/components/schemas/WebhookEndpoint"
                  },
                  {
                    "type": "object",
                    "required": [
                      "circuit"
                    ],
                    "properties": {
                      "circuit": {
                        "type": "string",
                        "enum": [
                          "closed",
                          "open",
                          "half_open"
                        ],
                        "description": "Read-only: `open` while Herald holds back because the endpoint kept failing."
                      },
                      "deliveries": {
                        "type": "object",
                        "description": "Read-only, status endpoints: status webhooks queued (`pending`), `delivered` and `failed`, kept for the retention period.",
                        "additionalProperties": {
                          "type": "integer"
                        }
                      }
                    }
                  }
                ]
              },
              "WebhookSettingsView": {
                "type": "object",
                "required": [
                  "endpoints",
                  "subscriber_secrets",
                  "status_endpoints"
                ],
                "properties": {
                  "endpoints": {
                    "type": "array",
                    "items": {
                      "$ref": "#/components/schemas/WebhookEndpointView"
                    }
                  },
                  "subscriber_secrets": {
                    "type": "array",
                    "items": {
                      "type": "string"
                    }
                  },
                  "status_endpoints": {
                    "type": "array",
                    "items": {
                      "$ref": "#/components/schemas/WebhookEndpointView"
                    }
                  }
                }
              },
              "WebhookMessage": {
                "type": "object",
                "description": "What the webhook channel posts for one message. Keys are sorted; the same message is the same bytes on every retry.",
                "required": [
                  "type",
                  "timestamp",
                  "data"
                ],
                "properties": {
                  "type": {
                    "type": "string",
                    "description": "The event type key.",
                    "example": "visitor_arrival"
                  },
                  "timestamp": {
                    "type": "string",
                    "format": "date-time",
                    "description": "When the event was triggered."
                  },
                  "data": {
                    "type": "object",
                    "required": [
                      "message_id",
                      "event_id",
                      "event_type",
                      "tenant_id",
                      "subscriber_id",
                      "priority",
                      "locale",
                      "payload"
                    ],
                    "properties": {
                      "message_id": {
                        "type": "string",
                        "description": "Also the `webhook-id` header: the same on every retry."
                      },
                      "event_id": {
                        "type": "string"
                      },
                      "event_type": {
                        "type": "string"
                      },
                      "tenant_id": {
                        "type": "string"
                      },
                      "subscriber_id": {
                        "type": "string"
                      },
                      "priority": {
                        "$ref": "#/components/schemas/Priority"
                      },
                      "locale": {
                        "type": "string",
                        "description": "The template locale used."
                      },
                      "payload": {
                        "type": "object",
                        "additionalProperties": true,
                        "description": "The event's payload as triggered."
                      },
                      "body": {
                        "description": "The rendered `body` template: JSON when it renders to JSON, else a string."
                      }
                    }
                  }
                }
              },
              "DeliveryStatusWebhook": {
                "type": "object",
                "description": "What a status endpoint receives.",
                "required": [
                  "type",
                  "timestamp",
                  "data"
                ],
                "properties": {
                  "type": {
                    "$ref": "#/components/schemas/DeliveryStatusEvent"
                  },
                  "timestamp": {
                    "type": "string",
                    "format": "date-time",
                    "description": "When the status changed."
                  },
                  "data": {
                    "type": "object",
                    "required": [
                      "message_id",
                      "event_id",
                      "event_type",
                      "tenant_id",
                      "subscriber_id",
                      "channel",
                      "priority",
                      "status"
                    ],
                    "properties": {
                      "message_id": {
                        "type": "string"
                      },
                      "event_id": {
                        "type": "string"
                      },
                      "event_type": {
                        "type": "string"
                      },
                      "tenant_id": {
                        "type": "string"
                      },
                      "subscriber_id": {
                        "type": "string"
                      },
                      "channel": {
                        "$ref": "#/components/schemas/Channel"
                      },
                      "priority": {
                        "$ref": "#/components/schemas/Priority"
                      },
                      "status": {
                        "$ref": "#/components/schemas/MessageStatus"
                      },
                      "attempt": {
                        "type": "integer",
                        "description": "sent, delivered, failed: the attempt that ended it."
                      },
                      "reason": {
                        "type": "string",
                        "description": "failed: `rejected`, `attempts_exhausted`, `render_failed` …"
                      },
                      "detail": {
                        "type": "string",
                        "description": "The provider's answer or the error."
                      },
                      "read_at": {
                        "type": "string",
                        "format": "date-time",
                        "description": "read: when."
                      },
                      "opened_at": {
                        "type": "string",
                        "format": "date-time",
                        "description": "opened, clicked: the message's first open."
                      },
                      "clicked_at": {
                        "type": "string",
                        "format": "date-time",
                        "description": "opened, clicked: the message's first click."
                      },
                      "open_count": {
                        "type": "integer",
                        "description": "opened, clicked: opens so far."
                      },
                      "click_count": {
                        "type": "integer",
                        "description": "opened, clicked: clicks so far, this one included."
                      },
                      "url": {
                        "type": "string",
                        "description": "clicked: the link's original URL, where the reader was sent."
                      }
                    }
                  }
                }
              },
              "TestEmailRequest": {
                "type": "object",
                "additionalProperties": false,
                "properties": {
                  "to": {
                    "type": "string",
                    "format": "email",
                    "description": "Send to this address (`email` and `address` are accepted as well). Give this or `subscriber_id`."
                  },
                  "subscriber_id": {
                    "type": "string",
                    "description": "Send to this subscriber's address, in their locale and time zone."
                  },
                  "payload": {
                    "type": "object",
                    "additionalProperties": true
                  },
                  "locale": {
                    "type": "string",
                    "example": "fr"
                  }
                },
                "example": {
                  "to": "me@example.com",
                  "payload": {
                    "amount": 120.5,
                    "currency": "EUR"
                  }
                }
              },
              "TestEmailResult": {
                "type": "object",
                "required": [
                  "transport",
                  "outcome",
                  "detail",
                  "message_id",
                  "transcript"
                ],
                "properties": {
                  "transport": {
                    "type": "string",
                    "example": "smtp smtp://mail.example.com:587 (starttls)"
                  },
                  "outcome": {
                    "type": "string",
                    "enum": [
                      "accepted",
                      "transient_failure",
                      "permanent_failure"
                    ]
                  },
                  "detail": {
                    "type": "string",
                    "example": "250 2.0.0 OK queued as 1234"
                  },
                  "message_id": {
                    "type": "string"
                  },
                  "transcript": {
                    "type": "array",
                    "items": {
                      "type": "string"
                    },
                    "example": [
                      "S: 220 mail.example.com ESMTP",
                      "C: EHLO herald",
                      "C: MAIL FROM:<notices@example.com> SIZE=2311"
                    ]
                  }
                }
              },
              "DeliveryCounts": {
                "type": "object",
                "properties": {
                  "sent": {
                    "type": "integer"
                  },
                  "failed": {
                    "type": "integer"
                  },
                  "suppressed": {
                    "type": "integer"
                  },
                  "pending": {
                    "type": "integer"
                  },
                  "cancelled": {
                    "type": "integer"
                  },
                  "merged": {
                    "type": "integer",
                    "description": "Collected into digests (each digest's own message counts once, under its outcome)."
                  },
                  "total": {
                    "type": "integer"
                  },
                  "success_rate": {
                    "type": [
                      "number",
                      "null"
                    ],
                    "description": "sent / (sent + failed); null when nothing finished."
                  }
                }
              },
              "DeliveryStats": {
                "type": "object",
                "properties": {
                  "window": {
                    "type": "object",
                    "properties": {
                      "from": {
                        "type": "string",
                        "format": "date-time"
                      },
                      "to": {
                        "type": "string",
                        "format": "date-time"
                      },
                      "seconds": {
                        "type": "integer"
                      }
                    }
                  },
                  "totals": {
                    "$ref": "#/components/schemas/DeliveryCounts"
                  },
                  "latency_ms": {
                    "type": "object",
                    "properties": {
                      "p50": {
                        "type": [
                          "number",
                          "null"
                        ]
                      },
                      "p95": {
                        "type": [
                          "number",
                          "null"
                        ]
                      },
                      "p99": {
                        "type": [
                          "number",
                          "null"
                        ]
                      },
                      "samples": {
                        "type": "integer"
                      }
                    }
                  },
                  "by_event_type": {
                    "type": "object",
                    "additionalProperties": {
                      "$ref": "#/components/schemas/DeliveryCounts"
                    }
                  },
                  "by_channel": {
                    "type": "object",
                    "additionalProperties": {
                      "$ref": "#/components/schemas/DeliveryCounts"
                    }
                  },
                  "email_feedback": {
                    "type": "object",
                    "description": "Bounces and complaints that arrived in the window (they come after the message was sent).",
                    "properties": {
                      "bounced": {
                        "type": "integer",
                        "description": "Hard and soft bounces."
                      },
                      "hard_bounces": {
                        "type": "integer"
                      },
                      "soft_bounces": {
                        "type": "integer"
                      },
                      "complained": {
                        "type": "integer"
                      }
                    }
                  },
                  "email_tracking": {
                    "type": "object",
                    "description": "Email messages created in the window and sent, and how many were opened and clicked (tracked email only). Opens are inflated by mail privacy proxies (Apple Mail Privacy Protection) and scanners, which load every pixel.",
                    "properties": {
                      "sent": {
                        "type": "integer"
                      },
                      "opened": {
                        "type": "integer",
                        "description": "Messages opened at least once."
                      },
                      "opens": {
                        "type": "integer",
                        "description": "Every open, repeats included."
                      },
                      "clicked": {
                        "type": "integer",
                        "description": "Messages with at least one click."
                      },
                      "clicks": {
                        "type": "integer",
                        "description": "Every click, repeats included."
                      }
                    }
                  }
                }
              },
              "CORSSettings": {
                "type": "object",
                "properties": {
                  "allowed_origins": {
                    "type": "array",
                    "items": {
                      "type": "string"
                    },
                    "description": "Origins (scheme://host[:port], lower case, no path) allowed to call the inbox endpoints from a browser; `*` allows any."
                  }
                }
              },
              "InboxUpdate": {
                "type": "object",
                "properties": {
                  "type": {
                    "type": "string",
                    "enum": [
                      "inbox.counts",
                      "message.created",
                      "message.read",
                      "message.archived",
                      "inbox.read_all",
                      "inbox.seen"
                    ]
                  },
                  "id": {
                    "type": "string",
                    "description": "Stream position; the SSE event id."
                  },
                  "message": {
                    "$ref": "#/components/schemas/InboxItem"
                  },
                  "message_id": {
                    "type": "string"
                  },
                  "counts": {
                    "$ref": "#/components/schemas/InboxCounts"
                  }
                }
              },
              "Schedule": {
                "type": "object",
                "description": "A recurring trigger: a cron expression on a time zone's wall clock (`0 8 * * *` in Europe/London is 08:00 London time, summer and winter) and the event it triggers, usually for a topic. On input the trigger may also be given as `event`. Each occurrence runs once, however many nodes run and however often they restart; a schedule that missed runs while the server was down runs once, for the latest occurrence.",
                "required": [
                  "cron"
                ],
                "anyOf": [
                  {
                    "required": [
                      "trigger"
                    ]
                  },
                  {
                    "required": [
                      "event"
                    ]
                  }
                ],
                "properties": {
                  "id": {
                    "type": "string",
                    "readOnly": true,
                    "examples": [
                      "sch_01hx3k9m2a"
                    ]
                  },
                  "name": {
                    "type": "string",
                    "maxLength": 200
                  },
                  "cron": {
                    "type": "string",
                    "description": "Five fields (`minute hour day-of-month month day-of-week`) with `*`, numbers, ranges, lists, steps (`*/15`) and names (`JAN`, `MON`), or `@hourly`, `@daily`, `@weekly`, `@monthly`, `@yearly`. When both day fields are restricted, a day matching either runs.",
                    "examples": [
                      "0 8 * * 1-5",
                      "@daily"
                    ]
                  },
                  "timezone": {
                    "type": "string",
                    "default": "UTC",
                    "description": "The IANA time zone whose wall clock the expression follows. A time skipped when clocks go forward runs at the first moment after it; a time repeated when they go back runs once.",
                    "examples": [
                      "Europe/London"
                    ]
                  },
                  "trigger": {
                    "description": "The event each occurrence triggers, as `POST /v1/events` takes it, without `send_at` or `delay`. Each run is idempotent per occurrence.",
                    "allOf": [
                      {
                        "$ref": "#/components/schemas/Trigger"
                      },
                      {
                        "not": {
                          "anyOf": [
                            {
                              "required": [
                                "send_at"
                              ]
                            },
                            {
                              "required": [
                                "delay"
                              ]
                            }
                          ]
                        }
                      }
                    ]
                  },
                  "event": {
                    "allOf": [
                      {
                        "$ref": "#/components/schemas/Trigger"
                      }
                    ],
                    "writeOnly": true,
                    "description": "Alias of `trigger` on input; used only when `trigger` is absent."
                  },
                  "enabled": {
                    "type": "boolean",
                    "default": true,
                    "description": "A disabled schedule keeps its definition and does not run."
                  },
                  "next_run_at": {
                    "type": "string",
                    "format": "date-time",
                    "readOnly": true,
                    "description": "The next occurrence."
                  },
                  "last_run_at": {
                    "type": "string",
                    "format": "date-time",
                    "readOnly": true,
                    "description": "The occurrence last run."
                  },
                  "last_event_id": {
                    "type": "string",
                    "readOnly": true,
                    "description": "The event the last successful run triggered."
                  },
                  "last_error": {
                    "type": "string",
                    "readOnly": true,
                    "description": "Why the last run triggered nothing (the trigger no longer validates, say); absent after a successful run."
                  },
                  "runs": {
                    "type": "integer",
                    "readOnly": true,
                    "description": "How many runs triggered an event."
                  },
                  "created_at": {
                    "type": "string",
                    "format": "date-time",
                    "readOnly": true
                  },
                  "updated_at": {
                    "type": "string",
                    "format": "date-time",
                    "readOnly": true
                  }
                }
              },
              "SchedulePage": {
                "type": "object",
                "description": "One page of schedules.",
                "required": [
                  "data"
                ],
                "properties": {
                  "data": {
                    "type": "array",
                    "items": {
                      "$ref": "#/components/schemas/Schedule"
                    }
                  },
                  "next_cursor": {
                    "type": "string",
                    "description": "Pass as `cursor` to get the next page; absent on the last page."
                  }
                }
              },
              "RateLimitSettingsView": {
                "type": "object",
                "description": "The tenant's own rate limits and what applies once the server's fill what it left out.",
                "required": [
                  "settings",
                  "effective"
                ],
                "properties": {
                  "settings": {
                    "oneOf": [
                      {
                        "$ref": "#/components/schemas/RateLimitSettings"
                      },
                      {
                        "type": "null"
                      }
                    ],
                    "description": "The tenant's own settings; null when it has none."
                  },
                  "effective": {
                    "allOf": [
                      {
                        "$ref": "#/components/schemas/RateLimitSettings"
                      }
                    ],
                    "readOnly": true,
                    "description": "The server's limits with the tenant's in their place."
                  }
                }
              },
              "DKIMSettings": {
                "type": "object",
                "description": "DKIM signing keys (RFC 6376, relaxed/relaxed; rsa-sha256, or ed25519-sha256 per RFC 8463). `selector` names the key that signs; other keys stay published for rotation without a gap (add the next key, publish its record, then switch `selector`). The short form `{\"selector\": \"s1\", \"private_key\": \"-----BEGIN PRIVATE KEY-----…\"}` or `{\"selector\": \"s1\", \"generate\": true}` is one key. Private keys are never returned: answers show `********` (sending it back keeps the stored key) and the public half.",
                "required": [
                  "selector"
                ],
                "properties": {
                  "domain": {
                    "type": "string",
                    "description": "The signing domain (`d=`); left out, the From address's domain."
                  },
                  "selector": {
                    "type": "string",
                    "example": "herald2026"
                  },
                  "keys": {
                    "type": "array",
                    "maxItems": 10,
                    "items": {
                      "$ref": "#/components/schemas/DKIMKey"
                    }
                  },
                  "algorithm": {
                    "type": "string",
                    "enum": [
                      "rsa-sha256",
                      "ed25519-sha256"
                    ],
                    "description": "Short form: the algorithm of the one key."
                  },
                  "private_key": {
                    "type": "string",
                    "writeOnly": true,
                    "description": "Short form: the PEM private key (PKCS#8 or PKCS#1) of the one key."
                  },
                  "generate": {
                    "type": "boolean",
                    "writeOnly": true,
                    "description": "Short form: Herald makes the key pair (RSA 2048 unless `algorithm` says ed25519-sha256)."
                  }
                }
              },
              "DKIMKey": {
                "type": "object",
                "required": [
                  "selector"
                ],
                "properties": {
                  "selector": {
                    "type": "string"
                  },
                  "algorithm": {
                    "type": "string",
                    "enum": [
                      "rsa-sha256",
                      "ed25519-sha256"
                    ],
                    "description": "Read from the key when left out; rsa-sha256 for a generated key."
                  },
                  "private_key": {
                    "type": "string",
                    "description": "PEM (PKCS#8, or PKCS#1 for RSA; at least 1024 bits). `********` in answers."
                  },
                  "generate": {
                    "type": "boolean",
                    "writeOnly": true,
                    "description": "Make a new key pair for this selector."
                  },
                  "public_key": {
                    "type": "string",
                    "readOnly": true,
                    "description": "The public half, base64, as the DNS record's `p=` carries it."
                  }
                }
              },
              "EmailDNSRecords": {
                "type": "object",
                "required": [
                  "from_domain",
                  "records"
                ],
                "properties": {
                  "from_domain": {
                    "type": "string"
                  },
                  "return_path_domain": {
                    "type": [
                      "string",
                      "null"
                    ]
                  },
                  "records": {
                    "type": "array",
                    "items": {
                      "type": "object",
                      "required": [
                        "purpose",
                        "name",
                        "type",
                        "value",
                        "zone_file_value"
                      ],
                      "properties": {
                        "purpose": {
                          "type": "string",
                          "enum": [
                            "dkim",
                            "spf",
                            "dmarc",
                            "return_path"
                          ]
                        },
                        "name": {
                          "type": "string"
                        },
                        "type": {
                          "type": "string",
                          "enum": [
                            "TXT",
                            "MX"
                          ]
                        },
                        "value": {
                          "type": "string"
                        },
                        "zone_file_value": {
                          "type": "string",
                          "description": "The value as a zone file wants it: TXT values in quoted strings of at most 255 bytes."
                        },
                        "note": {
                          "type": "string"
                        }
                      }
                    }
                  }
                }
              },
              "Suppression": {
                "type": "object",
                "required": [
                  "address",
                  "reason",
                  "created_at"
                ],
                "properties": {
                  "address": {
                    "type": "string",
                    "format": "email"
                  },
                  "reason": {
                    "type": "string",
                    "enum": [
                      "bounced",
                      "complained",
                      "manual"
                    ]
                  },
                  "message_id": {
                    "type": "string",
                    "description": "The message whose bounce or complaint put the address on the list."
                  },
                  "detail": {
                    "type": "string"
                  },
                  "created_at": {
                    "type": "string",
                    "format": "date-time"
                  }
                }
              },
              "NewSuppression": {
                "type": "object",
                "required": [
                  "address"
                ],
                "properties": {
                  "address": {
                    "type": "string",
                    "format": "email"
                  },
                  "reason": {
                    "type": "string",
                    "enum": [
                      "bounced",
                      "complained",
                      "manual"
                    ],
                    "default": "manual"
                  },
                  "detail": {
                    "type": "string",
                    "maxLength": 1000
                  }
                }
              },
              "SuppressionPage": {
                "type": "object",
                "required": [
                  "data"
                ],
                "properties": {
                  "data": {
                    "type": "array",
                    "items": {
                      "$ref": "#/components/schemas/Suppression"
                    }
                  },
                  "next_cursor": {
                    "type": [
                      "string",
                      "null"
                    ]
                  }
                }
              },
              "EmailFeedback": {
                "type": "object",
                "required": [
                  "kind",
                  "address",
                  "created_at"
                ],
                "properties": {
                  "kind": {
                    "type": "string",
                    "enum": [
                      "hard_bounce",
                      "soft_bounce",
                      "complaint"
                    ]
                  },
                  "address": {
                    "type": "string"
                  },
                  "status": {
                    "type": "string",
                    "description": "A bounce's enhanced status code (`5.1.1`); a complaint's feedback type (`abuse`)."
                  },
                  "detail": {
                    "type": "string"
                  },
                  "created_at": {
                    "type": "string",
                    "format": "date-time"
                  }
                }
              },
              "PushSettings": {
                "type": "object",
                "description": "A tenant's push providers. What is left out comes from the server's `push:` section. Private keys are never returned: answers show `********`, and sending that back keeps the stored key.",
                "properties": {
                  "apns": {
                    "type": "object",
                    "required": [
                      "key_id",
                      "team_id",
                      "private_key"
                    ],
                    "properties": {
                      "key_id": {
                        "type": "string",
                        "minLength": 10,
                        "maxLength": 10
                      },
                      "team_id": {
                        "type": "string",
                        "minLength": 10,
                        "maxLength": 10
                      },
                      "private_key": {
                        "type": "string",
                        "description": "The text of the .p8 file (PKCS#8 PEM, P-256). `********` in answers."
                      },
                      "bundle_id": {
                        "type": "string",
                        "description": "The apns-topic for devices registered without an app_id."
                      },
                      "critical_alerts": {
                        "type": "boolean",
                        "description": "The app holds Apple's critical-alerts entitlement: critical types go `interruption-level: critical`, else `time-sensitive`."
                      },
                      "base_url": {
                        "type": "string",
                        "format": "uri"
                      },
                      "sandbox_base_url": {
                        "type": "string",
                        "format": "uri"
                      }
                    }
                  },
                  "fcm": {
                    "type": "object",
                    "required": [
                      "service_account"
                    ],
                    "properties": {
                      "service_account": {
                        "type": "object",
                        "description": "The service-account JSON file from the Firebase console; its private_key is `********` in answers.",
                        "required": [
                          "project_id",
                          "private_key",
                          "client_email"
                        ],
                        "properties": {
                          "type": {
                            "type": "string"
                          },
                          "project_id": {
                            "type": "string"
                          },
                          "private_key_id": {
                            "type": "string"
                          },
                          "private_key": {
                            "type": "string"
                          },
                          "client_email": {
                            "type": "string"
                          },
                          "token_uri": {
                            "type": "string",
                            "format": "uri"
                          }
                        },
                        "additionalProperties": true
                      },
                      "base_url": {
                        "type": "string",
                        "format": "uri"
                      }
                    }
                  },
                  "webpush": {
                    "type": "object",
                    "properties": {
                      "subject": {
                        "type": "string",
                        "description": "The VAPID contact: mailto: or https:."
                      }
                    }
                  },
                  "ttl_seconds": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": 2419200,
                    "default": 86400,
                    "description": "How long providers keep trying a device that is off."
                  }
                }
              },
              "EffectivePushSettings": {
                "type": "object",
                "properties": {
                  "apns": {
                    "type": "string",
                    "enum": [
                      "tenant",
                      "server",
                      "none"
                    ]
                  },
                  "fcm": {
                    "type": "string",
                    "enum": [
                      "tenant",
                      "server",
                      "none"
                    ]
                  },
                  "vapid_public_key": {
                    "type": "string",
                    "description": "The applicationServerKey for PushManager.subscribe (base64url)."
                  }
                }
              },
              "PushSettingsView": {
                "allOf": [
                  {
                    "$ref": "#/components/schemas/PushSettings"
                  },
                  {
                    "type": "object",
                    "required": [
                      "effective"
                    ],
                    "properties": {
                      "effective": {
                        "$ref": "#/components/schemas/EffectivePushSettings"
                      }
                    }
                  }
                ]
              },
              "NewPushDevice": {
                "type": "object",
                "required": [
                  "platform"
                ],
                "description": "A phone (APNs, FCM) by its token, or a browser by its PushSubscription. Registering the same token or endpoint again updates that device and makes it active.",
                "properties": {
                  "platform": {
                    "type": "string",
                    "enum": [
                      "apns",
                      "fcm",
                      "webpush"
                    ]
                  },
                  "token": {
                    "type": "string",
                    "maxLength": 4096,
                    "description": "apns: the device token in hex; fcm: the registration token."
                  },
                  "subscription": {
                    "type": "object",
                    "required": [
                      "endpoint",
                      "keys"
                    ],
                    "description": "webpush: the browser's PushSubscription.toJSON().",
                    "properties": {
                      "endpoint": {
                        "type": "string",
                        "format": "uri"
                      },
                      "expirationTime": {
                        "type": [
                          "integer",
                          "null"
                        ],
                        "minimum": 1,
                        "maximum": 9000000000000000,
                        "description": "Milliseconds since 1970 when the push service ends the subscription; null for never."
                      },
                      "keys": {
                        "type": "object",
                        "required": [
                          "p256dh",
                          "auth"
                        ],
                        "properties": {
                          "p256dh": {
                            "type": "string"
                          },
                          "auth": {
                            "type": "string"
                          }
                        }
                      }
                    }
                  },
                  "app_id": {
                    "type": "string",
                    "description": "The iOS bundle id (apns-topic), or the app's id."
                  },
                  "environment": {
                    "type": "string",
                    "enum": [
                      "production",
                      "sandbox"
                    ],
                    "description": "apns only; default production."
                  },
                  "locale": {
                    "type": "string"
                  }
                }
              },
              "PushDevice": {
                "type": "object",
                "required": [
                  "id",
                  "subscriber_id",
                  "platform",
                  "active",
                  "last_seen_at",
                  "created_at"
                ],
                "properties": {
                  "id": {
                    "type": "string"
                  },
                  "subscriber_id": {
                    "type": "string"
                  },
                  "platform": {
                    "type": "string",
                    "enum": [
                      "apns",
                      "fcm",
                      "webpush"
                    ]
                  },
                  "token": {
                    "type": "string"
                  },
                  "endpoint": {
                    "type": "string",
                    "description": "webpush: the subscription's endpoint (its keys are never shown)."
                  },
                  "app_id": {
                    "type": "string"
                  },
                  "environment": {
                    "type": "string",
                    "enum": [
                      "production",
                      "sandbox"
                    ]
                  },
                  "locale": {
                    "type": "string"
                  },
                  "active": {
                    "type": "boolean"
                  },
                  "deactivated_reason": {
                    "type": "string",
                    "description": "Why the provider's answer retired the device (`410 Unregistered`)."
                  },
                  "last_seen_at": {
                    "type": "string",
                    "format": "date-time"
                  },
                  "created_at": {
                    "type": "string",
                    "format": "date-time"
                  }
                }
              },
              "PushDeviceList": {
                "type": "object",
                "required": [
                  "data"
                ],
                "properties": {
                  "data": {
                    "type": "array",
                    "items": {
                      "$ref": "#/components/schemas/PushDevice"
                    }
                  }
                }
              },
              "WorkflowStep": {
                "type": "object",
                "description": "One step of a workflow: exactly one of `send`, `wait`, `wait_until` or `digest`, optionally only `if` a condition holds when the step is reached (docs/workflow-conditions.md). `until` ends a wait early, and with it the run, when it happens to any message of the event for the recipient.",
                "additionalProperties": false,
                "properties": {
                  "send": {
                    "description": "One channel, or several: all at once (`mode: all`, the default) or the first that works (`mode: first_success`: the next on a permanent failure, a preference or a missing address).",
                    "oneOf": [
                      {
                        "$ref": "#/components/schemas/Channel"
                      },
                      {
                        "type": "array",
                        "items": {
                          "$ref": "#/components/schemas/Channel"
                        },
                        "minItems": 1
                      }
                    ]
                  },
                  "mode": {
                    "type": "string",
                    "enum": [
                      "all",
                      "first_success"
                    ]
                  },
                  "wait": {
                    "type": "string",
                    "description": "A duration: `15m`, `1h30m`; at least the server's `dispatch.workflow_min_wait_seconds`, and shorter than the type's retention.",
                    "examples": [
                      "15m"
                    ]
                  },
                  "wait_until": {
                    "type": "string",
                    "description": "The next time of day on the subscriber's clock (their time zone, UTC without one).",
                    "examples": [
                      "09:00"
                    ]
                  },
                  "until": {
                    "type": "string",
                    "enum": [
                      "read",
                      "seen",
                      "clicked",
                      "delivered",
                      "opened"
                    ],
                    "description": "`read` and `seen` happen to in-app messages, `opened` to a tracked email, `clicked` to either (an inbox item's link, a tracked email link), `delivered` to any."
                  },
                  "digest": {
                    "$ref": "#/components/schemas/DigestSpec"
                  },
                  "if": {
                    "type": "string",
                    "description": "A condition over `payload`, `subscriber`, `priority`, `tenant`, `read`, `seen`, `clicked`, `delivered`, `opened` and earlier steps (`steps.<n>.status`, `.read` …); checked when the type is saved.",
                    "examples": [
                      "subscriber.email != null and payload.severity != 'low'"
                    ]
                  }
                }
              },
              "Workflow": {
                "type": "array",
                "items": {
                  "$ref": "#/components/schemas/WorkflowStep"
                },
                "minItems": 1,
                "maxItems": 20,
                "description": "The steps each recipient's notification takes; without one, an event type sends on all its channels at once. Each recipient gets a run, stored and advanced step by step.",
                "examples": [
                  [
                    {
                      "send": "in_app"
                    },
                    {
                      "wait": "15m",
                      "until": "read"
                    },
                    {
                      "send": "email",
                      "if": "subscriber.email != null"
                    }
                  ]
                ]
              },
              "WorkflowRunMessage": {
                "type": "object",
                "required": [
                  "id",
                  "channel",
                  "status"
                ],
                "properties": {
                  "id": {
                    "type": "string"
                  },
                  "channel": {
                    "$ref": "#/components/schemas/Channel"
                  },
                  "status": {
                    "$ref": "#/components/schemas/MessageStatus"
                  },
                  "reason": {
                    "type": "string"
                  }
                }
              },
              "WorkflowRunStep": {
                "type": "object",
                "required": [
                  "index",
                  "summary",
                  "status",
                  "messages"
                ],
                "properties": {
                  "index": {
                    "type": "integer"
                  },
                  "summary": {
                    "type": "string",
                    "examples": [
                      "wait 15m until read"
                    ]
                  },
                  "status": {
                    "type": "string",
                    "enum": [
                      "pending",
                      "waiting",
                      "sending",
                      "done",
                      "skipped",
                      "failed"
                    ]
                  },
                  "reason": {
                    "type": "string",
                    "description": "Why: `condition_false`, `waited`, `read_before_wait_ended`, `event_cancelled`, `no_channel_worked: …` …"
                  },
                  "at": {
                    "type": "string",
                    "format": "date-time"
                  },
                  "until": {
                    "type": "string",
                    "format": "date-time",
                    "description": "The end of a wait."
                  },
                  "messages": {
                    "type": "array",
                    "items": {
                      "$ref": "#/components/schemas/WorkflowRunMessage"
                    }
                  }
                }
              },
              "WorkflowRun": {
                "type": "object",
                "description": "One recipient's run of an event's workflow, step by step.",
                "required": [
                  "subscriber_id",
                  "status",
                  "steps",
                  "created_at",
                  "updated_at"
                ],
                "properties": {
                  "subscriber_id": {
                    "type": "string"
                  },
                  "status": {
                    "type": "string",
                    "enum": [
                      "active",
                      "waiting",
                      "sending",
                      "completed",
                      "cancelled"
                    ]
                  },
                  "outcome": {
                    "type": "string",
                    "description": "How it ended: `finished`, what ended a wait early (`read`, `seen`, `clicked`, `delivered`), `event_cancelled` or `subscriber_deleted`."
                  },
                  "due_at": {
                    "type": "string",
                    "format": "date-time"
                  },
                  "steps": {
                    "type": "array",
                    "items": {
                      "$ref": "#/components/schemas/WorkflowRunStep"
                    }
                  },
                  "created_at": {
                    "type": "string",
                    "format": "date-time"
                  },
                  "updated_at": {
                    "type": "string",
                    "format": "date-time"
                  }
                }
              },
              "WorkflowRunPage": {
                "type": "object",
                "required": [
                  "data"
                ],
                "properties": {
                  "data": {
                    "type": "array",
                    "items": {
                      "$ref": "#/components/schemas/WorkflowRun"
                    }
                  },
                  "next_cursor": {
                    "type": "string"
                  }
                }
              },
              "WorkflowPreviewRequest": {
                "type": "object",
                "additionalProperties": false,
                "properties": {
                  "workflow": {
                    "$ref": "#/components/schemas/Workflow"
                  },
                  "payload": {
                    "type": "object",
                    "additionalProperties": true
                  },
                  "subscriber_id": {
                    "type": "string",
                    "description": "A stored subscriber, with their preferences."
                  },
                  "subscriber": {
                    "$ref": "#/components/schemas/SubscriberInput"
                  },
                  "assume_read": {
                    "type": "boolean",
                    "description": "Preview the path when the recipient reads the in-app message during the first wait."
                  }
                }
              },
              "WorkflowPreview": {
                "type": "object",
                "required": [
                  "problems",
                  "steps"
                ],
                "properties": {
                  "problems": {
                    "type": "array",
                    "items": {
                      "$ref": "#/components/schemas/FieldError"
                    },
                    "description": "What is wrong with a draft workflow, each naming its step; then there are no steps."
                  },
                  "steps": {
                    "type": "array",
                    "items": {
                      "type": "object",
                      "properties": {
                        "index": {
                          "type": "integer"
                        },
                        "summary": {
                          "type": "string"
                        },
                        "status": {
                          "type": "string"
                        },
                        "reason": {
                          "type": "string"
                        },
                        "messages": {
                          "type": "array",
                          "items": {
                            "type": "object",
                            "properties": {
                              "channel": {
                                "$ref": "#/components/schemas/Channel"
                              },
                              "status": {
                                "$ref": "#/components/schemas/MessageStatus"
                              },
                              "reason": {
                                "type": "string"
                              }
                            }
                          }
                        }
                      }
                    }
                  },
                  "outcome": {
                    "type": "string"
                  }
                }
              },
              "SESTransport": {
                "type": "object",
                "additionalProperties": false,
                "required": [
                  "region",
                  "access_key_id",
                  "secret_access_key"
                ],
                "properties": {
                  "region": {
                    "type": "string",
                    "example": "eu-west-1"
                  },
                  "access_key_id": {
                    "type": "string"
                  },
                  "secret_access_key": {
                    "type": "string",
                    "description": "Write-only: answers show `********`; send `********` back to keep the stored value."
                  },
                  "configuration_set": {
                    "type": "string"
                  },
                  "sns_topic_arns": {
                    "type": "array",
                    "items": {
                      "type": "string"
                    },
                    "description": "SNS topics whose bounce and complaint notifications are taken; absent takes any topic whose signature verifies."
                  },
                  "endpoint": {
                    "type": "string",
                    "description": "The API's base URL; default the provider's public endpoint. A tenant's endpoint passes the private-address guard."
                  },
                  "timeout_seconds": {
                    "type": "number",
                    "minimum": 0.1,
                    "maximum": 600,
                    "default": 30
                  },
                  "trusted_certificates_pem": {
                    "type": "string",
                    "description": "PEM certificates trusted besides the system's."
                  }
                },
                "description": "Amazon SES v2 SendEmail with the raw MIME message (Herald's DKIM signature intact), Signature V4."
              },
              "SendGridTransport": {
                "type": "object",
                "additionalProperties": false,
                "required": [
                  "api_key"
                ],
                "properties": {
                  "api_key": {
                    "type": "string",
                    "description": "Write-only: answers show `********`; send `********` back to keep the stored value."
                  },
                  "webhook_verification_key": {
                    "type": "string",
                    "description": "The Event Webhook's ECDSA verification key (base64 DER), to verify bounce and spam-report events."
                  },
                  "endpoint": {
                    "type": "string",
                    "description": "The API's base URL; default the provider's public endpoint. A tenant's endpoint passes the private-address guard."
                  },
                  "timeout_seconds": {
                    "type": "number",
                    "minimum": 0.1,
                    "maximum": 600,
                    "default": 30
                  },
                  "trusted_certificates_pem": {
                    "type": "string",
                    "description": "PEM certificates trusted besides the system's."
                  }
                },
                "description": "SendGrid v3 mail/send (SendGrid writes the MIME and signs with its DKIM key)."
              },
              "PostmarkTransport": {
                "type": "object",
                "additionalProperties": false,
                "required": [
                  "server_token"
                ],
                "properties": {
                  "server_token": {
                    "type": "string",
                    "description": "Write-only: answers show `********`; send `********` back to keep the stored value."
                  },
                  "message_stream": {
                    "type": "string"
                  },
                  "webhook_username": {
                    "type": "string"
                  },
                  "webhook_password": {
                    "type": "string",
                    "description": "Write-only: answers show `********`; send `********` back to keep the stored value."
                  },
                  "endpoint": {
                    "type": "string",
                    "description": "The API's base URL; default the provider's public endpoint. A tenant's endpoint passes the private-address guard."
                  },
                  "timeout_seconds": {
                    "type": "number",
                    "minimum": 0.1,
                    "maximum": 600,
                    "default": 30
                  },
                  "trusted_certificates_pem": {
                    "type": "string",
                    "description": "PEM certificates trusted besides the system's."
                  }
                },
                "description": "Postmark /email (Postmark writes the MIME and signs with its DKIM key); webhooks carry HTTP Basic credentials."
              },
              "MailgunTransport": {
                "type": "object",
                "additionalProperties": false,
                "required": [
                  "api_key",
                  "domain"
                ],
                "properties": {
                  "api_key": {
                    "type": "string",
                    "description": "Write-only: answers show `********`; send `********` back to keep the stored value."
                  },
                  "domain": {
                    "type": "string",
                    "example": "mg.example.com"
                  },
                  "webhook_signing_key": {
                    "type": "string",
                    "description": "Write-only: answers show `********`; send `********` back to keep the stored value. Verifies the HMAC of Mailgun's webhooks."
                  },
                  "endpoint": {
                    "type": "string",
                    "description": "The API's base URL; default the provider's public endpoint. A tenant's endpoint passes the private-address guard."
                  },
                  "timeout_seconds": {
                    "type": "number",
                    "minimum": 0.1,
                    "maximum": 600,
                    "default": 30
                  },
                  "trusted_certificates_pem": {
                    "type": "string",
                    "description": "PEM certificates trusted besides the system's."
                  }
                },
                "description": "Mailgun messages.mime with the raw MIME message (Herald's DKIM signature intact)."
              },
              "EmailTransport": {
                "type": "object",
                "description": "One link of an email failover chain: exactly one of these keys.",
                "minProperties": 1,
                "maxProperties": 1,
                "additionalProperties": false,
                "properties": {
                  "smtp": {
                    "$ref": "#/components/schemas/SMTPServer"
                  },
                  "ses": {
                    "$ref": "#/components/schemas/SESTransport"
                  },
                  "sendgrid": {
                    "$ref": "#/components/schemas/SendGridTransport"
                  },
                  "postmark": {
                    "$ref": "#/components/schemas/PostmarkTransport"
                  },
                  "mailgun": {
                    "$ref": "#/components/schemas/MailgunTransport"
                  }
                }
              },
              "EmailWebhookReceipt": {
                "type": "object",
                "description": "What Herald made of a provider webhook it verified.",
                "required": [
                  "recorded",
                  "ignored"
                ],
                "properties": {
                  "recorded": {
                    "type": "integer",
                    "description": "Bounces and complaints recorded against a message (and so counted toward, or put on, its tenant's suppression list)."
                  },
                  "ignored": {
                    "type": "integer",
                    "description": "Events taken but not recorded: other kinds (deliveries, opens), a message Herald does not know or that is not this tenant's, a repeat of an event already taken."
                  },
                  "subscription_confirmed": {
                    "type": "boolean",
                    "description": "Present for an SNS subscription confirmation: Herald confirmed the subscription."
                  }
                }
              },
              "Attachment": {
                "type": "object",
                "description": "A file for the event's emails: its bytes as base64 `content` (with `content_type`), or, in a trigger only, a `url` Herald fetches once when the trigger is accepted (through the outbound destination policy: a private or loopback address is refused unless the operator allows it; the answer's `Content-Type` is used when `content_type` is absent). Each file may hold `email.max_attachment_bytes` (10 MiB), all of a trigger's together, the event type's included, `email.max_attachments_bytes` (20 MiB), and there are at most 10. Executables and scripts are refused by type (`application/x-msdownload`, `application/x-sh`, `text/javascript` …), by extension (`.exe`, `.bat`, `.cmd`, `.com`, `.scr`, `.js`, `.vbs`, `.jar`, `.msi`, `.ps1`, `.sh` …) and by their first bytes. Each problem is a 422 naming the field (`attachments[1].content_type`).",
                "required": [
                  "filename"
                ],
                "properties": {
                  "filename": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 255,
                    "description": "The name the recipient sees: no line breaks, control characters, `/` or `\\`, at most 255 bytes of UTF-8.",
                    "examples": [
                      "invoice-42.pdf"
                    ]
                  },
                  "content_type": {
                    "type": "string",
                    "maxLength": 255,
                    "description": "A media type (`application/pdf`, `text/csv; charset=utf-8`); required with `content`.",
                    "examples": [
                      "application/pdf"
                    ]
                  },
                  "content": {
                    "type": "string",
                    "contentEncoding": "base64",
                    "description": "The file's bytes, standard base64 with padding (line breaks allowed)."
                  },
                  "url": {
                    "type": "string",
                    "format": "uri",
                    "maxLength": 2048,
                    "description": "An `http` or `https` URL to fetch the file from, once, when the trigger is accepted. Not in an event type."
                  }
                }
              },
              "AttachmentSummary": {
                "type": "object",
                "description": "A file stored with an event: its name, type and size, never its bytes.",
                "required": [
                  "filename",
                  "content_type",
                  "size"
                ],
                "properties": {
                  "filename": {
                    "type": "string"
                  },
                  "content_type": {
                    "type": "string",
                    "examples": [
                      "application/pdf"
                    ]
                  },
                  "size": {
                    "type": "integer",
                    "description": "Bytes (decoded)."
                  }
                }
              }
            }
          },
          "webhooks": {
            "message": {
              "post": {
                "summary": "A webhook-channel message",
                "description": "Posted to the subscriber's `data.webhook_url`, or else to the tenant's endpoints in failover order, signed the Standard Webhooks way (verify with any Standard Webhooks library).",
                "parameters": [
                  {
                    "name": "webhook-id",
                    "in": "header",
                    "required": true,
                    "schema": {
                      "type": "string"
                    },
                    "description": "The message id (channel) or the status event's id: the same on every retry; drop repeats."
                  },
                  {
                    "name": "webhook-timestamp",
                    "in": "header",
                    "required": true,
                    "schema": {
                      "type": "string"
                    },
                    "description": "Unix seconds of this attempt; refuse ones more than five minutes off."
                  },
                  {
                    "name": "webhook-signature",
                    "in": "header",
                    "required": true,
                    "schema": {
                      "type": "string"
                    },
                    "description": "Space-separated `v1,<base64 HMAC-SHA256(key, \"{webhook-id}.{webhook-timestamp}.{body}\")>`, one per secret."
                  }
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/WebhookMessage"
                      }
                    }
                  }
                },
                "responses": {
                  "200": {
                    "description": "Any 2xx: delivered."
                  },
                  "410": {
                    "description": "Gone: Herald disables this endpoint and sends nothing more to it."
                  },
                  "429": {
                    "description": "408, 429 and 5xx (and no answer within the timeout): unavailable; counts on the endpoint's circuit and is retried."
                  },
                  "400": {
                    "description": "Any other 4xx: the request is refused for good (the message fails with the status and the start of the answer)."
                  }
                }
              }
            },
            "deliveryStatus": {
              "post": {
                "summary": "A delivery-status event",
                "description": "Posted to each status endpoint subscribed to the event's type, signed the same way, from a durable queue with retries.",
                "parameters": [
                  {
                    "name": "webhook-id",
                    "in": "header",
                    "required": true,
                    "schema": {
                      "type": "string"
                    },
                    "description": "The message id (channel) or the status event's id: the same on every retry; drop repeats."
                  },
                  {
                    "name": "webhook-timestamp",
                    "in": "header",
                    "required": true,
                    "schema": {
                      "type": "string"
                    },
                    "description": "Unix seconds of this attempt; refuse ones more than five minutes off."
                  },
                  {
                    "name": "webhook-signature",
                    "in": "header",
                    "required": true,
                    "schema": {
                      "type": "string"
                    },
                    "description": "Space-separated `v1,<base64 HMAC-SHA256(key, \"{webhook-id}.{webhook-timestamp}.{body}\")>`, one per secret."
                  }
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/DeliveryStatusWebhook"
                      }
                    }
                  }
                },
                "responses": {
                  "200": {
                    "description": "Any 2xx: delivered."
                  },
                  "410": {
                    "description": "Gone: Herald disables this endpoint and sends nothing more to it."
                  },
                  "429": {
                    "description": "408, 429 and 5xx (and no answer within the timeout): unavailable; counts on the endpoint's circuit and is retried."
                  },
                  "400": {
                    "description": "Any other 4xx: the request is refused for good (the message fails with the status and the start of the answer)."
                  }
                }
              }
            }
          }
        }
        """#
}
