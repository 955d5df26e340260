-- P12, marketplaces for AI agents: interest in the marketplace articles (and in the proxy article the registry names) per month, with its share of the peak so far.
select * from {{ peak_share_series('P12') }}
