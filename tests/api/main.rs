//! The API over real HTTP, against a real database (SQLite, or PostgreSQL with
//! `CIT_TEST_DATABASE_URL`). One binary; every test gets its own server and database.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod auth;
mod bad_input;
mod cache;
mod content;
mod contract;
mod cross_tenant;
mod entries;
mod events;
mod graphql;
mod graphql_requests;
mod lookups;
mod media;
mod newsletter;
mod operations;
mod people;
mod requests;
mod requests_attachments;
mod requests_mail;
mod requests_tickets;
mod search;
mod surveys;
mod tenancy;
mod tenant_jobs;
mod webhooks;
