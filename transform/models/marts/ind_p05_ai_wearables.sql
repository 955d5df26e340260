-- P05, AI wearables and XR devices: interest in the device articles per month with its share of the peak so far (the headline compares the last quarter with the peak), and the makers' share prices.
select * from {{ peak_share_series('P05') }}
