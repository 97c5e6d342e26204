-- core.customers rows changed in one data interval [$1, $2), oldest change first.
-- Money as float8: ADBC carries Postgres numeric as an opaque string type.
select customer_id::bigint,
       birth_date::date,
       gender::text,
       income::float8,
       employment_status::text,
       region::text,
       created_at::timestamptz,
       updated_at::timestamptz
from core.customers
where updated_at >= $1 and updated_at < $2
order by updated_at, customer_id
