-- core.repayments rows changed in one data interval [$1, $2), oldest change first.
select repayment_id::bigint,
       account_id::bigint,
       paid_at::timestamptz,
       amount::float8,
       updated_at::timestamptz
from core.repayments
where updated_at >= $1 and updated_at < $2
order by updated_at, repayment_id
