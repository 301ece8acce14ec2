//! The platform answers outside the QPS objects: `/msp/about.php` and the portal version.

use crate::node::Node;
use crate::response::ServiceResponse;

/// The version openqps reports as its portal and web version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// `GET /qps/rest/portal/version`: one `Portal-Version` in `data`.
pub fn portal_version() -> ServiceResponse {
    ServiceResponse::success(vec![Node::Elem(
        "Portal-Version",
        vec![Node::text("PortalApplication-VERSION", VERSION)],
    )])
}

/// The small `ABOUT` document `/msp/about.php` answers with.
pub fn about_xml() -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ABOUT>\n  <API-VERSION MAJOR=\"2\" MINOR=\"0\"/>\n  \
         <WEB-VERSION>openqps {VERSION}</WEB-VERSION>\n  <SCANNER-VERSION>none</SCANNER-VERSION>\n  \
         <VULNSIGS-VERSION>none</VULNSIGS-VERSION>\n</ABOUT>\n"
    )
}
