//! basalt-controller as a library: the model, the metadata store, the node
//! driver and the HTTP API, shared by the `basalt-controller` service and
//! its tests.

pub mod api;
pub mod api_scale;
pub mod driver;
pub mod meta;
pub mod migration;
pub mod model;
pub mod scale;
pub mod status;
pub mod store;
