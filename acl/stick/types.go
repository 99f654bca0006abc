package stick

// KeyType is the type of a table's keys ("type" argument of stick-table).
type KeyType uint8

// Key types, in HAProxy's sample type order.
const (
	KeyInteger KeyType = iota
	KeyIP
	KeyIPv6
	KeyString
	KeyBinary
)

var keyTypeNames = [...]string{KeyInteger: "integer", KeyIP: "ip", KeyIPv6: "ipv6", KeyString: "string", KeyBinary: "binary"}

// String returns the keyword of the key type, as "show table" prints it.
func (k KeyType) String() string {
	if int(k) < len(keyTypeNames) {
		return keyTypeNames[k]
	}
	return "?"
}

// defaultKeySize is the key size of each type before any "len".
var defaultKeySize = [...]int{KeyInteger: 4, KeyIP: 4, KeyIPv6: 16, KeyString: 32, KeyBinary: 32}

// DataType is a value a table stores per entry ("store" argument).
// The order is HAProxy's (STKTABLE_DT_*): "show table" prints in this order.
type DataType uint8

// Data types, in HAProxy's enum order.
const (
	ServerID DataType = iota
	GPT0
	GPC0
	GPC0Rate
	ConnCnt
	ConnRate
	ConnCur
	SessCnt
	SessRate
	HTTPReqCnt
	HTTPReqRate
	HTTPErrCnt
	HTTPErrRate
	BytesInCnt
	BytesInRate
	BytesOutCnt
	BytesOutRate
	GPC1
	GPC1Rate
	ServerKey
	HTTPFailCnt
	HTTPFailRate
	GPT
	GPC
	GPCRate
	// NumDataTypes is the number of data types.
	NumDataTypes
)

// stdType is the storage class of a data type (STD_T_*).
type stdType uint8

const (
	stdSint stdType = iota
	stdUint
	stdULL
	stdFreq
	stdDict
)

type dataTypeInfo struct {
	name  string
	std   stdType
	delay bool // takes a period argument
	array bool // takes an element count first
	local bool // never sent to peers
}

var dataTypes = [NumDataTypes]dataTypeInfo{
	ServerID:     {name: "server_id", std: stdSint},
	GPT0:         {name: "gpt0", std: stdUint},
	GPC0:         {name: "gpc0", std: stdUint},
	GPC0Rate:     {name: "gpc0_rate", std: stdFreq, delay: true},
	ConnCnt:      {name: "conn_cnt", std: stdUint},
	ConnRate:     {name: "conn_rate", std: stdFreq, delay: true},
	ConnCur:      {name: "conn_cur", std: stdUint, local: true},
	SessCnt:      {name: "sess_cnt", std: stdUint},
	SessRate:     {name: "sess_rate", std: stdFreq, delay: true},
	HTTPReqCnt:   {name: "http_req_cnt", std: stdUint},
	HTTPReqRate:  {name: "http_req_rate", std: stdFreq, delay: true},
	HTTPErrCnt:   {name: "http_err_cnt", std: stdUint},
	HTTPErrRate:  {name: "http_err_rate", std: stdFreq, delay: true},
	BytesInCnt:   {name: "bytes_in_cnt", std: stdULL},
	BytesInRate:  {name: "bytes_in_rate", std: stdFreq, delay: true},
	BytesOutCnt:  {name: "bytes_out_cnt", std: stdULL},
	BytesOutRate: {name: "bytes_out_rate", std: stdFreq, delay: true},
	GPC1:         {name: "gpc1", std: stdUint},
	GPC1Rate:     {name: "gpc1_rate", std: stdFreq, delay: true},
	ServerKey:    {name: "server_key", std: stdDict},
	HTTPFailCnt:  {name: "http_fail_cnt", std: stdUint},
	HTTPFailRate: {name: "http_fail_rate", std: stdFreq, delay: true},
	GPT:          {name: "gpt", std: stdUint, array: true},
	GPC:          {name: "gpc", std: stdUint, array: true},
	GPCRate:      {name: "gpc_rate", std: stdFreq, array: true, delay: true},
}

// maxArray is STKTABLE_MAX_DT_ARRAY_SIZE.
const maxArray = 100

// String returns the data type's name as used in "store" and "data.<type>".
func (d DataType) String() string {
	if d < NumDataTypes {
		return dataTypes[d].name
	}
	return "?"
}

// IsRate reports whether the data type is a frequency counter with a period.
func (d DataType) IsRate() bool { return d < NumDataTypes && dataTypes[d].std == stdFreq }

// IsArray reports whether the data type is one of the gpt/gpc/gpc_rate arrays.
func (d DataType) IsArray() bool { return d < NumDataTypes && dataTypes[d].array }

// LookupDataType returns the data type called name, accepting the legacy
// alias "server_name" for server_key as HAProxy does.
func LookupDataType(name string) (DataType, bool) {
	for i := range dataTypes {
		if dataTypes[i].name == name {
			return DataType(i), true
		}
	}
	if name == "server_name" {
		return ServerKey, true
	}
	return 0, false
}

// SrvKey selects what identifies servers in server_key ("srvkey").
type SrvKey uint8

// Server key kinds.
const (
	SrvKeyName SrvKey = iota
	SrvKeyAddr
)
