//! napi-rs binding of weir's engine: conversion, host calls into JS, error mapping. Nothing else.

mod fabric;
mod host;
mod recovery;
mod worker;
