//! Local dispute resolution service: the NHS procedure for disputes between GP practices and
//! their commissioners — stage 1 informal resolution with the LMC, stage 2 a Local Dispute
//! Resolution Panel, stage 3 referral to the FHSU (NHS Resolution).

pub mod api;
pub mod app;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod domain;
pub mod healthcheck;
pub mod logging;
pub mod metrics;
pub mod notify;
pub mod pack;
pub mod render;
pub mod server;
pub mod service;
pub mod web;
pub mod webhooks;
