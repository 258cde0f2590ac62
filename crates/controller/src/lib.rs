//! basalt-controller as a library: the model, the metadata store, the node
//! driver and the HTTP API, shared by the `basalt-controller` service and
//! its tests.

pub mod adopt;
pub mod api;
pub mod api_scale;
pub mod api_status;
pub mod dashboard;
pub mod driver;
pub mod election;
pub mod etcd;
pub mod failover;
pub mod manual_failover;
pub mod meta;
pub mod metrics;
pub mod migration;
pub mod model;
pub mod nodeinfo;
pub mod probe;
pub mod redirect;
pub mod scale;
pub mod status;
pub mod store;
pub mod whole_body;
