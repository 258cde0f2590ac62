//! basalt-controller as a library: the model, the metadata store, the node
//! driver and the HTTP API, shared by the `basalt-controller` service and
//! its tests.

pub mod adopt;
pub mod api;
pub mod driver;
pub mod failover;
pub mod manual_failover;
pub mod meta;
pub mod model;
pub mod nodeinfo;
pub mod probe;
pub mod status;
pub mod store;
